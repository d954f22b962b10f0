// The drill-down's concurrency control: a number input and a button that POST
// /api/consumers/<id>/concurrency (the dashboard token in the Authorization header). Absent on a
// read-only dashboard (the server says so in `init`, and refuses the action anyway).
import { h } from './dom.js';

/** A control for the consumer in view; `token`: the dashboard token from the page's URL, if any. */
export function createConcurrencyControl(token) {
  const root = h('form', { class: 'concurrency', 'aria-label': 'concurrency' });
  const input = h('input', {
    type: 'number',
    name: 'concurrency',
    min: '1',
    max: '1024',
    step: '1',
    required: '',
    'aria-label': 'dispatch workers',
  });
  const button = h('button', { type: 'submit', 'data-action': 'set-concurrency' }, 'set workers');
  const message = h('span', { class: 'concurrency-message', role: 'status' });
  root.append(h('label', {}, 'workers '), input, button, message);
  let id = null;
  let edited = false;
  input.addEventListener('input', () => {
    edited = true;
  });

  const say = (kind, text) => {
    message.dataset.kind = kind;
    message.textContent = text;
  };

  root.addEventListener('submit', async (event) => {
    event.preventDefault();
    const n = Number(input.value);
    const target = id;
    button.disabled = true;
    say('busy', `changing to ${n}…`);
    try {
      const response = await fetch(`api/consumers/${encodeURIComponent(target)}/concurrency`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ concurrency: n }),
      });
      const data = await response.json().catch(() => ({ error: response.statusText }));
      if (!response.ok) throw new Error(data.error ?? `HTTP ${response.status}`);
      edited = false;
      say(
        'ok',
        data.pending ? `${n} workers asked for; busy ones finish their message first` : `${n} workers`,
      );
    } catch (error) {
      say('error', error.message);
    } finally {
      button.disabled = false;
    }
  });

  return {
    root,
    /** A new consumer in view. */
    show(model) {
      id = model.id;
      edited = false;
      say('', '');
      this.paint(model);
    },
    /** Keep the input on the consumer's concurrency unless the user is editing it. */
    paint(model) {
      root.dataset.concurrencyFor = model.id;
      root.dataset.concurrency = String(model.concurrency);
      if (!edited && document.activeElement !== input) input.value = String(model.concurrency);
    },
  };
}
