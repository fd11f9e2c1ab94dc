// The API over fetch, with the token kept in sessionStorage.
export const token = {
	get: () => sessionStorage.getItem('vv-token'),
	set: (t) => sessionStorage.setItem('vv-token', t),
	clear: () => sessionStorage.removeItem('vv-token'),
};

export async function api(method, path, body) {
	const r = await fetch('/api/v1' + path, {
		method,
		headers: { Authorization: 'Bearer ' + token.get(),
			   ...(body ? { 'Content-Type': 'application/json' } : {}) },
		body: body ? JSON.stringify(body) : undefined,
	});
	const j = await r.json().catch(() => ({}));
	if (!r.ok) {
		const e = new Error(j.error || r.statusText);
		e.status = r.status;
		throw e;
	}
	return j;
}

// GET /events read as a stream (EventSource cannot send Authorization).
export async function events(onEvent, signal) {
	const r = await fetch('/api/v1/events', {
		headers: { Authorization: 'Bearer ' + token.get() }, signal });
	if (!r.ok || !r.body)
		throw new Error('events: ' + r.status);
	const rd = r.body.pipeThrough(new TextDecoderStream()).getReader();
	let buf = '';
	for (;;) {
		const { value, done } = await rd.read();
		if (done)
			return;
		buf += value;
		let i;
		while ((i = buf.indexOf('\n\n')) >= 0) {
			const msg = buf.slice(0, i);
			buf = buf.slice(i + 2);
			let type = 'message', data = '';
			for (const line of msg.split('\n')) {
				if (line.startsWith('event: ')) type = line.slice(7);
				else if (line.startsWith('data: ')) data += line.slice(6);
			}
			try { onEvent(type, data ? JSON.parse(data) : null); } catch (e) { /* bad event */ }
		}
	}
}
