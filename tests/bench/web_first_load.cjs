// tests/bench/web_first_load.cjs: headless Chromium opens the web console
// with a token already in sessionStorage and times the first load to a
// rendered dashboard and to a rendered VM list; bytes on the wire from
// Playwright's request sizes. Env: URL, TOK, WEB_NPM, N (VMs expected).
const { chromium } = require(process.env.WEB_NPM + '/node_modules/playwright-core');
const { URL: base, TOK, N } = process.env;

(async () => {
	const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
	const runs = [];
	for (let i = 0; i < 5; i++) {
		const ctx = await browser.newContext({ ignoreHTTPSErrors: true });
		await ctx.addInitScript((t) => sessionStorage.setItem('vv-token', t), TOK);
		const page = await ctx.newPage();
		let bytes = 0;
		const sized = [];
		page.on('requestfinished', (r) => sized.push(r.sizes().then((s) => {
			bytes += s.responseBodySize + s.responseHeadersSize;
		})));
		const t0 = Date.now();
		await page.goto(base + '/');
		await page.locator('#vm-counts').getByText(new RegExp(`${N} stopped`)).waitFor({ timeout: 30000 });
		const dash = Date.now() - t0;
		const t1 = Date.now();
		await page.click('a[href="#/vms"]');
		await page.locator('tbody tr').nth(Number(N) - 1).waitFor({ timeout: 30000 });
		const list = Date.now() - t1;
		await Promise.all(sized);
		runs.push({ dash, list, bytes });
		await ctx.close();
	}
	await browser.close();
	const med = (k) => runs.map((r) => r[k]).sort((a, b) => a - b)[2];
	console.log(JSON.stringify({ dash_ms: med('dash'), list_ms: med('list'), bytes: med('bytes') }));
})().catch((e) => { console.error('FAIL: ' + e.message); process.exit(1); });
