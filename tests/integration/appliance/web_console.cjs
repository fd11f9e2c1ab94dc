// tests/integration/appliance/web_console.cjs: drives the web console in
// headless Chromium (playwright-core, Debian's /usr/bin/chromium) against a
// running vhdvisord. Env: URL, OP (operator token), VIEW (viewer token),
// SHOTS (screenshot dir), WEB_NPM (node_modules' parent), VM (a stopped VM).
const { chromium } = require(process.env.WEB_NPM + '/node_modules/playwright-core');
const { URL: base, OP, VIEW, SHOTS, VM } = process.env;
const fail = (m) => { throw new Error(m); };
const step = (m) => console.log('web: ' + m);
const AXE = process.env.WEB_NPM + '/node_modules/axe-core/axe.min.js';

// axe-core over the page as it stands: no serious or critical violation.
async function axe(page, view) {
	await page.addScriptTag({ path: AXE });
	const bad = await page.evaluate(async () => (await window.axe.run()).violations
		.filter((v) => v.impact === 'serious' || v.impact === 'critical')
		.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`));
	if (bad.length)
		fail(`axe on ${view}:\n  ${bad.join('\n  ')}`);
	console.log(`web: axe: ${view} clean`);
}

async function login(ctx, tok) {
	const page = await ctx.newPage();
	page.on('pageerror', (e) => console.log('page error: ' + e.message));
	await page.goto(base + '/');
	await page.fill('#token', tok);
	await page.click('button[type=submit]');
	return page;
}

(async () => {
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
		args: ['--no-sandbox'] });
	// bypassCSP: axe-core is added as an inline script, which the CSP refuses
	const ctx = await browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: true,
		viewport: { width: 1200, height: 800 } });
	try {
		step('a wrong token is refused');
		let page = await login(ctx, 'vvt_' + '0'.repeat(64));
		await page.getByText('Token refused').waitFor({ timeout: 10000 });
		await page.screenshot({ path: SHOTS + '/login-refused.png' });
		await axe(page, 'login');
		await page.close();

		step('operator: dashboard');
		page = await login(ctx, OP);
		await page.getByText('(operator)').waitFor({ timeout: 10000 });
		await page.locator('#vm-counts').getByText('0 running, 3 stopped').waitFor({ timeout: 10000 });
		await page.locator('#host-cpu').getByText(/CPU: \d+ %/).waitFor({ timeout: 10000 });
		await page.screenshot({ path: SHOTS + '/dashboard.png' });
		await axe(page, 'dashboard');

		step('operator: the VM list, a start button');
		await page.click('a[href="#/vms"]');
		const row = page.locator(`tr[data-vm="${VM}"]`);
		await row.locator('.state').getByText('stopped').waitFor({ timeout: 10000 });
		await row.getByRole('button', { name: 'Start' }).waitFor({ timeout: 5000 });
		await row.locator('td.mem').getByText(/^\d+ (MiB|GiB)$/).waitFor({ timeout: 5000 });
		await page.screenshot({ path: SHOTS + '/vms.png' });
		await axe(page, 'vms');
		// every control reachable by keyboard: Tab from the top reaches the
		// nav links, log out, the VM's link and its Start button
		const seen = new Set();
		for (let i = 0; i < 20; i++) {
			await page.keyboard.press('Tab');
			seen.add(await page.evaluate(() => document.activeElement.textContent.trim()));
		}
		for (const c of ['Dashboard', 'VMs', 'Images', 'Labs', 'Tasks', 'Log out', VM, 'Start'])
			if (!seen.has(c))
				fail(`'${c}' not reached by Tab (reached: ${[...seen].join(', ')})`);

		step('operator: the VM page, start, the console sees the boot');
		await row.getByRole('link', { name: VM }).click();
		await page.getByRole('heading', { name: 'VM ' + VM }).waitFor({ timeout: 10000 });
		await page.getByRole('button', { name: 'Start' }).click();
		await page.locator('#vm-state').getByText('running').waitFor({ timeout: 60000 });
		await page.locator('#console-state').getByText('connected').waitFor({ timeout: 20000 });
		const termText = () => page.locator('.xterm-rows').innerText();
		const waitTerm = async (s, ms) => {
			const end = Date.now() + ms;
			while (!(await termText()).includes(s)) {
				if (Date.now() > end)
					fail(`console: no '${s}' in:\n${await termText()}`);
				await page.waitForTimeout(250);
			}
		};
		await waitTerm('VHDVISOR-GUEST-UP', 240000);
		await waitTerm('login:', 60000);
		await page.click('#term');
		await page.keyboard.type('root\r');
		await waitTerm('# ', 30000);
		await page.keyboard.type('echo VV-WEB-$((6*7))\r');
		await waitTerm('VV-WEB-42', 30000);
		await page.screenshot({ path: SHOTS + '/console.png' });
		await axe(page, 'vm page with console');
		await page.close();

		step('images, labs, tasks');
		page = await login(ctx, OP);    // sessionStorage is the tab's: log in again
		await page.getByText('(operator)').waitFor({ timeout: 10000 });
		await page.click('a[href="#/images"]');
		await page.locator('tr[data-image]', { hasText: 'tiny' }).first().waitFor({ timeout: 10000 });
		await page.screenshot({ path: SHOTS + '/images.png' });
		await axe(page, 'images');
		await page.click('a[href="#/labs"]');
		await page.locator('tr[data-lab="l"]', { hasText: 'l-2 (stopped)' }).waitFor({ timeout: 10000 });
		await page.screenshot({ path: SHOTS + '/labs.png' });
		await axe(page, 'labs');
		await page.click('a[href="#/tasks"]');
		await page.getByRole('heading', { name: 'Tasks' }).waitFor({ timeout: 10000 });
		await page.screenshot({ path: SHOTS + '/tasks.png' });
		await axe(page, 'tasks');
		await page.close();

		step('viewer: no start or stop button; the forged POST gets 403');
		const vctx = await browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: true });
		page = await login(vctx, VIEW);
		await page.getByText('(viewer)').waitFor({ timeout: 10000 });
		await page.click('a[href="#/vms"]');
		const vrow = page.locator(`tr[data-vm="${VM}"]`);
		await vrow.locator('.state').getByText('running').waitFor({ timeout: 10000 });
		if (await page.getByRole('button', { name: /^(Start|Stop)$/ }).count())
			fail('the viewer sees a start/stop button');
		await page.screenshot({ path: SHOTS + '/vms-viewer.png' });
		await axe(page, 'vms as viewer');
		const forged = await page.evaluate(async (vm) => (await fetch(`/api/v1/vms/${vm}/stop`, {
			method: 'POST', headers: { Authorization: 'Bearer ' + sessionStorage.getItem('vv-token') },
		})).status, VM);
		if (forged !== 403)
			fail('the viewer\'s forged stop got ' + forged);

		step('live: the operator stops the VM elsewhere; the viewer\'s list follows the event stream');
		const opage = await ctx.newPage();
		await opage.goto(base + '/');
		const stopped = await opage.evaluate(async ([vm, tok]) => (await fetch(`/api/v1/vms/${vm}/stop`, {
			method: 'POST', headers: { Authorization: 'Bearer ' + tok } })).status, [VM, OP]);
		if (stopped !== 200)
			fail('the operator\'s stop got ' + stopped);
		await vrow.locator('.state').getByText('stopped').waitFor({ timeout: 15000 });
		await opage.close();
		await vctx.close();
		step('all good');
	} finally {
		await browser.close();
	}
})().catch((e) => { console.error('web: FAIL: ' + e.message); process.exit(1); });
