// A VM's serial console: xterm.js over the console WebSocket. The token
// travels as the subprotocol "bearer.TOKEN" (browsers cannot set headers).
import { Terminal } from '@xterm/xterm';
import { token } from './api.js';

export function openConsole(el, name, onState) {
	const term = new Terminal({ convertEol: false, fontSize: 14, rows: 30, cols: 100 });
	term.open(el);
	const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host +
		'/api/v1/vms/' + encodeURIComponent(name) + '/console';
	const ws = new WebSocket(url, ['vhdvisor.console', 'bearer.' + token.get()]);
	ws.binaryType = 'arraybuffer';
	ws.onopen = () => onState('connected');
	ws.onclose = (e) => onState('closed (' + e.code + ')');
	ws.onmessage = (e) => term.write(typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
	const sub = term.onData((d) => ws.readyState === 1 && ws.send(new TextEncoder().encode(d)));
	return () => { sub.dispose(); ws.close(1000); term.dispose(); };
}
