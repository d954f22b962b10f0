// The dead-letter panels: one per consumed stream, with counts by reason, the newest dead letters (paged),
// a detail view, and replay / purge (purge asks for confirmation). Talks to /api/dead-letters (JSON).
const PAGE_SIZE = 20;
// While dead letters keep arriving, a panel reloads at most this often (leading and trailing edge):
// a debounce restarted by every update (they come every sample) would never load at all.
const REFRESH_GAP_MS = 500;

function h(tag, attrs = {}, text = null) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text !== null) node.textContent = text;
  return node;
}

function age(deadAt) {
  if (deadAt === null) return '–';
  const s = Math.max(0, Math.round((Date.now() - deadAt) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

function pretty(value) {
  try {
    return JSON.stringify(JSON.parse(value), null, 2);
  } catch {
    return value;
  }
}

/**
 * Mount the panels into `box`; returns `refresh(stream?, added?)` for the page to call when counts
 * change (`added`: how many dead letters the runtime just wrote, shown in the total at once).
 */
export async function mountDeadLetters(box, token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  const call = async (path, body) => {
    const response = await fetch(path, {
      method: body ? 'POST' : 'GET',
      headers: body ? { ...headers, 'content-type': 'application/json' } : headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = await response.json().catch(() => ({ error: response.statusText }));
    if (!response.ok) throw new Error(data.error ?? `HTTP ${response.status}`);
    return data;
  };
  box.replaceChildren(h('h2', {}, 'Dead letters'));
  box.hidden = false;
  let listing;
  try {
    listing = await call('api/dead-letters');
  } catch (error) {
    box.append(
      h('p', { class: 'dlq-message', 'data-kind': 'error' }, `cannot load dead letters: ${error.message}`),
    );
    return () => {};
  }
  const { readOnly, streams } = listing;
  box.dataset.readOnly = String(readOnly);
  const panels = new Map();
  for (const { stream, deadStream } of streams) {
    const panel = createPanel(stream, deadStream, readOnly, call);
    panels.set(stream, panel);
    box.append(panel.root);
    void panel.load();
  }
  return (stream, added = 0) => {
    for (const [name, panel] of panels) {
      if (stream !== undefined && stream !== name) continue;
      if (added > 0) panel.bump(added);
      panel.soon();
    }
  };
}

function createPanel(stream, deadStream, readOnly, call) {
  const base = `api/dead-letters/${encodeURIComponent(stream)}`;
  const root = h('article', { class: 'dlq', 'data-dead-letters-for': stream, 'data-total': '0' });
  const total = h('span', { class: 'dlq-total' }, '0');
  const head = h('header');
  head.append(h('h3', {}, stream), h('span', { class: 'meta' }, deadStream), total);
  head.append(h('button', { type: 'button', 'data-action': 'refresh' }, 'refresh'));
  const reasons = h('ul', { class: 'dlq-reasons' });
  const bar = h('div', { class: 'dlq-bar' });
  const message = h('p', { class: 'dlq-message', role: 'status' });
  const confirmBox = h('div', { class: 'dlq-confirm', hidden: '' });
  const rows = h('tbody');
  const table = h('table', { class: 'dlq-table' });
  const thead = h('tr');
  for (const title of ['', 'id', 'type', 'reason', 'error', 'deliveries', 'age', ''])
    thead.append(h('th', {}, title));
  table.append(h('thead'), rows);
  table.tHead.append(thead);
  const paging = h('nav', { class: 'dlq-paging' });
  const newer = h('button', { type: 'button', 'data-action': 'newer' }, '← newer');
  const older = h('button', { type: 'button', 'data-action': 'older' }, 'older →');
  paging.append(newer, older);
  const detail = h('section', { class: 'dlq-detail', hidden: '' });
  if (!readOnly) {
    bar.append(
      h('button', { type: 'button', 'data-action': 'replay', 'data-scope': 'selected' }, 'replay selected'),
      h('button', { type: 'button', 'data-action': 'purge', 'data-scope': 'selected' }, 'purge selected'),
    );
  }
  const empty = h('p', { class: 'empty' }, 'No dead letters.');
  root.append(head, reasons, bar, confirmBox, message, table, empty, paging, detail);

  const state = {
    reason: null,
    cursors: [null],
    next: null,
    letters: [],
    busy: false,
    total: 0,
    // The throttle of soon(): a trailing timer, the load under way, when the last one started, and
    // whether counts changed since it started.
    timer: null,
    loading: null,
    lastLoad: 0,
    dirty: false,
  };
  const selected = () => [...rows.querySelectorAll('input[type="checkbox"]:checked')].map((box) => box.value);
  const say = (text, bad = false) => {
    message.textContent = text;
    message.dataset.kind = bad ? 'error' : 'ok';
  };

  async function load() {
    const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
    if (state.reason) query.set('reason', state.reason);
    const before = state.cursors.at(-1);
    if (before) query.set('before', before);
    try {
      const page = await call(`${base}?${query}`);
      render(page);
    } catch (error) {
      say(`cannot load dead letters: ${error.message}`, true);
    }
  }

  function showTotal(n) {
    state.total = n;
    root.dataset.total = String(n);
    total.textContent = `${n} dead letter${n === 1 ? '' : 's'}`;
  }

  function render(page) {
    showTotal(page.total);
    reasons.replaceChildren(
      ...Object.entries(page.counts).map(([reason, count]) => {
        const item = h('li', { 'data-count-reason': reason, 'data-count': String(count) });
        const filter = h('button', { type: 'button', class: 'dlq-filter', 'data-action': 'filter' }, reason);
        if (state.reason === reason) filter.classList.add('on');
        item.append(filter, h('span', { class: 'dlq-count' }, String(count)));
        if (!readOnly && reason !== '(none)') {
          item.append(
            h('button', { type: 'button', 'data-action': 'replay', 'data-scope': 'reason' }, 'replay all'),
            h('button', { type: 'button', 'data-action': 'purge', 'data-scope': 'reason' }, 'purge all'),
          );
        }
        return item;
      }),
    );
    state.letters = page.letters;
    state.next = page.next;
    const ticked = new Set(selected()); // a reload under steady dead-lettering keeps the ticks
    rows.replaceChildren(...page.letters.map(renderRow));
    for (const box of rows.querySelectorAll('input[type="checkbox"]')) box.checked = ticked.has(box.value);
    empty.hidden = page.letters.length > 0;
    table.hidden = page.letters.length === 0;
    newer.disabled = state.cursors.length <= 1;
    older.disabled = page.next === null;
  }

  function renderRow(letter) {
    const row = h('tr', { 'data-dead-letter-id': letter.id, 'data-reason': letter.reason ?? '(none)' });
    const pick = h('td');
    if (!readOnly) pick.append(h('input', { type: 'checkbox', value: letter.id, 'aria-label': 'select' }));
    const id = h('td');
    id.append(h('button', { type: 'button', class: 'dlq-id', 'data-action': 'show' }, letter.id));
    const error = h('td', { class: 'dlq-error', title: letter.error ?? '' }, letter.error ?? '');
    const actions = h('td', { class: 'dlq-actions' });
    if (!readOnly) {
      actions.append(
        h('button', { type: 'button', 'data-action': 'replay' }, 'replay'),
        h('button', { type: 'button', 'data-action': 'purge' }, 'purge'),
      );
    }
    row.append(pick, id, h('td', {}, letter.type ?? '–'), h('td', {}, letter.reason ?? '–'), error);
    row.append(h('td', {}, letter.deliveries === null ? '–' : String(letter.deliveries)));
    row.append(
      h('td', { title: letter.deadAt ? new Date(letter.deadAt).toISOString() : '' }, age(letter.deadAt)),
    );
    row.append(actions);
    return row;
  }

  // A list row is a preview (values cut to 1 KiB by the server): the detail shows it at once and,
  // when something was cut, asks for the whole letter, which the server refuses (413) over its limit.
  function showDetail(id) {
    const letter = state.letters.find((l) => l.id === id);
    if (!letter) return;
    const partial = letter.omittedFields > 0 || Object.keys(letter.truncated ?? {}).length > 0;
    renderDetail(letter, partial ? 'a preview: loading the whole dead letter…' : null);
    if (!partial) return;
    // Only into the detail still open on this letter (not one closed or switched meanwhile).
    const open = () => !detail.hidden && detail.dataset.detailOf === id;
    call(`${base}/${encodeURIComponent(id)}`).then(
      (body) => open() && renderDetail(body.letter, null),
      (error) => open() && renderDetail(letter, `a preview: ${error.message}`),
    );
  }

  function renderDetail(letter, note) {
    detail.replaceChildren();
    const close = h('button', { type: 'button', 'data-action': 'close' }, 'close');
    detail.append(h('h4', {}, `dead letter ${letter.id}`), close);
    if (note) detail.append(h('p', { class: 'dlq-note' }, note));
    if (letter.error) detail.append(h('p', { class: 'dlq-error-text' }, letter.error));
    const list = h('dl');
    const headers = {
      reason: letter.reason,
      'source stream': letter.sourceStream,
      'source id': letter.sourceId,
      group: letter.group,
      deliveries: letter.deliveries,
      'dead at': letter.deadAt ? new Date(letter.deadAt).toISOString() : null,
      size: `${letter.bytes} bytes`,
    };
    for (const [key, value] of Object.entries(headers))
      list.append(h('dt', {}, key), h('dd', {}, String(value ?? '–')));
    const truncated = letter.truncated ?? {};
    for (const [key, value] of Object.entries(letter.fields)) {
      list.append(h('dt', {}, key));
      const dd = h('dd', { 'data-field': key });
      const cut = key in truncated;
      dd.append(key === 'payload' && !cut ? h('pre', {}, pretty(value)) : document.createTextNode(value));
      if (cut) dd.append(h('span', { class: 'dlq-cut' }, ` … (cut: ${truncated[key]} bytes in all)`));
      list.append(dd);
    }
    if (letter.omittedFields > 0)
      list.append(h('dt', {}, '…'), h('dd', {}, `${letter.omittedFields} more fields`));
    detail.append(list);
    detail.hidden = false;
    detail.dataset.detailOf = letter.id;
  }

  async function run(action, target, what) {
    if (state.busy) return;
    state.busy = true;
    try {
      const result = await call(
        `${base}/${action}`,
        action === 'purge' ? { ...target, confirm: true } : target,
      );
      const n = action === 'purge' ? result.purged.length : result.replayed.length;
      say(`${action === 'purge' ? 'purged' : 'replayed'} ${n} dead letter${n === 1 ? '' : 's'} (${what})`);
    } catch (error) {
      say(error.message, true);
    } finally {
      state.busy = false;
      await load();
    }
  }

  function askToPurge(target, what) {
    confirmBox.replaceChildren(
      h('span', {}, `Delete ${what} for good?`),
      h('button', { type: 'button', 'data-action': 'confirm', class: 'danger' }, 'purge'),
      h('button', { type: 'button', 'data-action': 'cancel' }, 'cancel'),
    );
    confirmBox.hidden = false;
    confirmBox.pending = target;
    confirmBox.what = what;
  }

  root.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button || !root.contains(button)) return;
    const action = button.dataset.action;
    const row = button.closest('[data-dead-letter-id]');
    const reasonItem = button.closest('[data-count-reason]');
    if (action === 'refresh') return void load();
    if (action === 'show') return showDetail(row.dataset.deadLetterId);
    if (action === 'close' || action === 'cancel') {
      (action === 'close' ? detail : confirmBox).hidden = true;
      return;
    }
    if (action === 'older' && state.next) state.cursors.push(state.next);
    if (action === 'newer' && state.cursors.length > 1) state.cursors.pop();
    if (action === 'older' || action === 'newer') return void load();
    if (action === 'filter') {
      const reason = reasonItem.dataset.countReason;
      state.reason = state.reason === reason ? null : reason;
      state.cursors = [null];
      return void load();
    }
    if (action === 'confirm') {
      confirmBox.hidden = true;
      return void run('purge', confirmBox.pending, confirmBox.what);
    }
    let target;
    let what;
    if (row) {
      target = { ids: [row.dataset.deadLetterId] };
      what = row.dataset.deadLetterId;
    } else if (reasonItem) {
      target = { reason: reasonItem.dataset.countReason };
      what = `every dead letter with reason ${target.reason}`;
    } else {
      const ids = selected();
      if (ids.length === 0) return say('select dead letters first', true);
      target = { ids };
      what = `${ids.length} selected`;
    }
    if (action === 'replay') return void run('replay', target, what);
    if (action === 'purge') return askToPurge(target, what);
  });

  /** Reload now, unless a load runs or one started less than REFRESH_GAP_MS ago: then once after. */
  function soon() {
    state.dirty = true;
    if (state.loading || state.timer) return;
    const wait = state.lastLoad + REFRESH_GAP_MS - Date.now();
    if (wait > 0) {
      state.timer = setTimeout(() => {
        state.timer = null;
        soon();
      }, wait);
      return;
    }
    state.dirty = false;
    state.lastLoad = Date.now();
    state.loading = load().finally(() => {
      state.loading = null;
      if (state.dirty) soon();
    });
  }

  return {
    root,
    load,
    /** Reload soon (counts changed while the page watches): at once, then at most every REFRESH_GAP_MS. */
    soon,
    /** `n` more dead letters were just written: show the new total before the reload lists them. */
    bump(n) {
      if (state.reason === null) showTotal(state.total + n);
    },
  };
}
