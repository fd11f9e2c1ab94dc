// vhdvisord's web console: login, dashboard, VM list, a VM's console.
import { h, render } from 'preact';
import { useState, useEffect, useRef } from 'preact/hooks';
import htm from 'htm';
import { api, events, token } from './api.js';
import { openConsole } from './console.js';

const html = htm.bind(h);
const MiB = 1024 * 1024;
const fmtBytes = (b) => b == null ? '?' : b >= 1024 * 1024 * MiB ? (b / (1024 * 1024 * MiB)).toFixed(1) + ' TiB'
	: b >= 1024 * MiB ? (b / (1024 * MiB)).toFixed(1) + ' GiB' : Math.round(b / MiB) + ' MiB';

function useHash() {
	const [hash, setHash] = useState(location.hash || '#/');
	useEffect(() => {
		const f = () => setHash(location.hash || '#/');
		addEventListener('hashchange', f);
		return () => removeEventListener('hashchange', f);
	}, []);
	return hash;
}

function Login({ onLogin }) {
	const [err, setErr] = useState('');
	const submit = async (e) => {
		e.preventDefault();
		token.set(e.target.token.value.trim());
		try {
			onLogin(await api('GET', '/host'));
		} catch (x) {
			token.clear();
			setErr(x.status === 401 ? 'Token refused' : x.message);
		}
	};
	return html`<main><h1>vhdvisor</h1><form onSubmit=${submit}>
		<label for="token">Token</label>
		<input id="token" name="token" type="password" autocomplete="off" size="70" />
		<button type="submit">Log in</button></form>
		${err && html`<p class="err" role="alert">${err}</p>`}</main>`;
}

// The latest host sample of GET /host/stats: CPU from the last two points.
function HostNow({ stats }) {
	const p = stats && stats.points ? stats.points : [];
	if (p.length < 1)
		return html`<div class="card"><h2>Now</h2><p>no samples yet</p></div>`;
	const a = p[p.length - 2] || p[p.length - 1], b = p[p.length - 1];
	const busy = b.cpu_busy_ns - a.cpu_busy_ns, idle = b.cpu_idle_ns - a.cpu_idle_ns;
	const cpu = b.cpu_percent != null ? b.cpu_percent : busy + idle > 0 ? 100 * busy / (busy + idle) : null;
	return html`<div class="card"><h2>Now</h2>
		<p id="host-cpu">CPU: ${cpu == null ? '?' : cpu.toFixed(0) + ' %'}, load ${b.load1}</p>
		<p>Memory available: ${fmtBytes(b.mem_available)} of ${fmtBytes(b.mem_total)}</p>
		<p>Storage free: ${fmtBytes(b.storage_free)} of ${fmtBytes(b.storage_total)}</p></div>`;
}

function Dashboard({ host, vms }) {
	const [stats, setStats] = useState(null);
	useEffect(() => {
		let on = true;
		const f = () => api('GET', '/host/stats').then((s) => on && setStats(s)).catch(() => {});
		f();
		const t = setInterval(f, 5000);
		return () => { on = false; clearInterval(t); };
	}, []);
	const running = vms.filter((v) => v.state === 'running').length;
	const st = host.storage || {};
	return html`<h1>Dashboard</h1><div class="cards">
		<div class="card"><h2>${host.name}</h2><p>${host.cpus} CPUs, ${host.accelerator || ''}</p>
			<p>Memory: ${fmtBytes(host.memory - (host.memory_free || 0))} of ${fmtBytes(host.memory)} in use</p>
			<p>Storage: ${fmtBytes(st.size - (st.free || 0))} of ${fmtBytes(st.size)} in use</p></div>
		<div class="card"><h2>VMs</h2><p id="vm-counts">${running} running, ${vms.length - running} stopped</p></div>
		<${HostNow} stats=${stats} />
	</div>`;
}

function VmList({ vms, canOperate, refresh }) {
	const [err, setErr] = useState('');
	const act = async (name, what) => {
		setErr('');
		try { await api('POST', `/vms/${encodeURIComponent(name)}/${what}`); } catch (x) { setErr(`${what} ${name}: ${x.message}`); }
		refresh();
	};
	return html`<h1>VMs</h1>${err && html`<p class="err" role="alert">${err}</p>`}
	<table><thead><tr><th>Name</th><th>State</th><th>CPUs</th><th>Memory</th><th>IP</th><th>Actions</th></tr></thead>
	<tbody>${vms.map((v) => html`<tr data-vm=${v.name}>
		<td><a href=${'#/vm/' + encodeURIComponent(v.name)}>${v.name}</a></td>
		<td class="state">${v.state}</td><td>${v.cpus}</td>
		<td class="mem">${v.mem != null ? fmtBytes(v.mem) : ''}</td>
		<td>${v.ip || (v.nics && v.nics.map((n) => n.ip).filter(Boolean).join(' ')) || ''}</td>
		<td>${canOperate && (v.state === 'running'
			? html`<button onClick=${() => act(v.name, 'stop')}>Stop</button>`
			: html`<button onClick=${() => act(v.name, 'start')}>Start</button>`)}</td>
	</tr>`)}</tbody></table>`;
}

function VmPage({ name, vm, canOperate, refresh }) {
	const el = useRef(null);
	const [state, setState] = useState('');
	const [err, setErr] = useState('');
	const act = async (what) => {
		setErr('');
		try { await api('POST', `/vms/${encodeURIComponent(name)}/${what}`); } catch (x) { setErr(`${what}: ${x.message}`); }
		refresh();
	};
	const running = vm && vm.state === 'running';
	useEffect(() => {
		if (!running || !canOperate)
			return undefined;
		return openConsole(el.current, name, setState);
	}, [name, running, canOperate]);
	return html`<h1>VM ${name}</h1>
		<p>State: <span id="vm-state">${vm ? vm.state : 'unknown'}</span>${vm && html`, ${vm.cpus} CPUs`}</p>
		${canOperate && vm && html`<p>${running ? html`<button onClick=${() => act('stop')}>Stop</button>`
			: html`<button onClick=${() => act('start')}>Start</button>`}</p>`}
		${err && html`<p class="err" role="alert">${err}</p>`}
		<h2>Serial console</h2>
		${!canOperate ? html`<p>The console needs the operator role.</p>`
			: !running ? html`<p>The VM is not running.</p>`
			: html`<p id="console-state">Console: ${state || 'connecting'}</p><div id="term" ref=${el}></div>`}`;
}

const when = (t) => t ? new Date(t * 1000).toLocaleString() : '';

// A read-only list of GET PATH, reloaded when an event of a kind in @on arrives.
function useList(path, on) {
	const [rows, setRows] = useState(null);
	const [err, setErr] = useState('');
	useEffect(() => {
		let live = true, timer = null;
		const load = () => api('GET', path).then((j) => live && setRows(j)).catch((x) => live && setErr(x.message));
		load();
		const ac = new AbortController();
		if (on)
			events((type) => {
				if (on.some((k) => type.startsWith(k)) && !timer)
					timer = setTimeout(() => { timer = null; load(); }, 1000);
			}, ac.signal).catch(() => {});
		return () => { live = false; ac.abort(); clearTimeout(timer); };
	}, [path]);
	return [rows, err];
}

function Images() {
	const [rows, err] = useList('/images', ['image']);
	return html`<h1>Images</h1>${err && html`<p class="err" role="alert">${err}</p>`}
	<table><thead><tr><th>Names</th><th>Content id</th><th>Size</th><th>File</th><th>OS</th><th>Created</th></tr></thead>
	<tbody>${(rows || []).map((i) => html`<tr data-image=${i.id}>
		<td>${(i.names || []).join(' ')}</td><td title=${i.id}><code>${i.id.slice(0, 12)}</code></td>
		<td>${fmtBytes(i.virtual_size)}</td><td>${fmtBytes(i.file_size)}</td><td>${i.os}</td><td>${when(i.created)}</td>
	</tr>`)}</tbody></table>`;
}

function Labs() {
	const [rows, err] = useList('/labs', ['vm', 'lab', 'task']);
	return html`<h1>Labs</h1>${err && html`<p class="err" role="alert">${err}</p>`}
	<table><thead><tr><th>Lab</th><th>Members</th><th>Running</th><th>Network</th><th>Machines</th></tr></thead>
	<tbody>${(rows || []).map((l) => html`<tr data-lab=${l.name}>
		<td>${l.name}</td><td>${l.count}</td><td>${l.running}</td><td>${l.net || ''}</td>
		<td>${(l.vms || []).map((v) => html`<a href=${'#/vm/' + encodeURIComponent(v.name)}>${v.name}</a> (${v.state}) `)}</td>
	</tr>`)}</tbody></table>`;
}

function Tasks() {
	const [rows, err] = useList('/tasks', ['task']);
	return html`<h1>Tasks</h1>${err && html`<p class="err" role="alert">${err}</p>`}
	${rows && !rows.length && html`<p>No tasks yet.</p>`}
	<table><thead><tr><th>Id</th><th>Kind</th><th>Target</th><th>State</th><th>Progress</th><th>Who</th><th>Started</th><th>Error</th></tr></thead>
	<tbody>${(rows || []).map((t) => html`<tr data-task=${t.id}>
		<td>${t.id}</td><td>${t.kind}</td><td>${t.target}</td><td>${t.state}</td>
		<td><progress max="100" value=${t.percent || 0} aria-label=${'task ' + t.id}></progress> ${t.percent || 0} %</td>
		<td>${t.who}</td><td>${when(t.started || t.created)}</td><td>${t.error || ''}</td>
	</tr>`)}</tbody></table>`;
}

function App() {
	const [host, setHost] = useState(null);
	const [vms, setVms] = useState([]);
	const hash = useHash();
	const refresh = () => api('GET', '/vms').then((j) => setVms(Array.isArray(j) ? j : j.vms || [])).catch(() => {});
	useEffect(() => {
		if (token.get())
			api('GET', '/host').then(setHost).catch(() => token.clear());
	}, []);
	useEffect(() => {
		if (!host)
			return undefined;
		refresh();
		const ac = new AbortController();
		let timer = null;
		const later = () => { if (!timer) timer = setTimeout(() => { timer = null; refresh(); }, 1000); };
		events((type) => { if (type.startsWith('vm')) later(); }, ac.signal).catch(() => {});
		return () => ac.abort();
	}, [host]);
	if (!host)
		return html`<${Login} onLogin=${setHost} />`;
	const canOperate = host.role === 'operator' || host.role === 'admin';
	const logout = () => { token.clear(); setHost(null); };
	let page;
	if (hash.startsWith('#/vm/')) {
		const name = decodeURIComponent(hash.slice(5));
		page = html`<${VmPage} name=${name} vm=${vms.find((v) => v.name === name)} canOperate=${canOperate} refresh=${refresh} />`;
	} else if (hash === '#/images') {
		page = html`<${Images} />`;
	} else if (hash === '#/labs') {
		page = html`<${Labs} />`;
	} else if (hash === '#/tasks') {
		page = html`<${Tasks} />`;
	} else if (hash === '#/vms') {
		page = html`<${VmList} vms=${vms} canOperate=${canOperate} refresh=${refresh} />`;
	} else {
		page = html`<${Dashboard} host=${host} vms=${vms} />`;
	}
	return html`<header><strong>vhdvisor</strong><nav><a href="#/">Dashboard</a> · <a href="#/vms">VMs</a> · <a href="#/images">Images</a> · <a href="#/labs">Labs</a> · <a href="#/tasks">Tasks</a></nav>
		<span class="who">${host.who} (${host.role})</span><button onClick=${logout}>Log out</button></header>
		<main>${page}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
