// The dashboard page: plan graph, steps and folders, the selected data step's progress and charts, dead
// letters, verify, and the pause/resume/cancel buttons (only with --allow-actions and the token). Live
// through server-sent events (/api/events); every figure comes from the JSON API.
import { createStepCharts } from './dashboard-charts.js';

const $ = (selector) => document.querySelector(selector);
const state = { plan: null, status: null, selected: null, pinned: false, history: { row: null, entries: [], lastId: 0 }, charts: null, token: '', deadOffset: 0 };
const DEAD_PAGE = 25;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children.filter((child) => child !== null && child !== undefined));
  return node;
}

// Every API request says it comes from this page: the server refuses /api/* GETs without this header, which
// another site's page cannot send (no CORS preflight is ever answered).
async function api(path, init = {}) {
  const response = await fetch(path, { ...init, headers: { ...(init.headers ?? {}), 'x-evolve-dashboard': '1' } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error ?? `${response.status} ${response.statusText}`);
  return body;
}

function readToken() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem('evolve-token', decodeURIComponent(match[1]));
    history.replaceState(null, '', location.pathname); // keep the token out of the address bar
  }
  return sessionStorage.getItem('evolve-token') ?? '';
}

const fmt = (n) => (n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US'));
const stepKey = (step) => `${step.phase}/${step.name}`;
const statusBadge = (status, extra = '') => el('span', { class: `status status-${status} ${extra}` }, status);

function duration(seconds) {
  if (seconds === null || !Number.isFinite(seconds)) return '–';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

function renderGraph() {
  const svg = $('#phase-graph');
  const phases = state.plan.phases;
  const statusOf = new Map((state.status?.phases ?? []).map((p) => [p.name, p.status]));
  const depth = new Map();
  const depthOf = (name) => {
    if (!depth.has(name)) {
      const phase = phases.find((p) => p.name === name);
      depth.set(name, phase && phase.dependsOn.length > 0 ? 1 + Math.max(...phase.dependsOn.map(depthOf)) : 0);
    }
    return depth.get(name);
  };
  const columns = [];
  for (const phase of phases) (columns[depthOf(phase.name)] ??= []).push(phase.name);
  const W = 190, H = 46, GX = 50, GY = 14;
  const pos = new Map();
  columns.forEach((names, c) => names.forEach((name, r) => pos.set(name, { x: 10 + c * (W + GX), y: 10 + r * (H + GY) })));
  const height = 20 + Math.max(1, ...columns.map((c) => c.length)) * (H + GY);
  svg.setAttribute('viewBox', `0 0 ${20 + columns.length * (W + GX)} ${height}`);
  svg.style.height = `${height}px`;
  const ns = 'http://www.w3.org/2000/svg';
  const svgEl = (tag, attrs) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  };
  svg.replaceChildren();
  const defs = svgEl('defs', {});
  const marker = svgEl('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '9', refY: '5', markerWidth: '6', markerHeight: '6', orient: 'auto' });
  marker.append(svgEl('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#b8c0cc' }));
  defs.append(marker);
  svg.append(defs);
  for (const phase of phases) {
    for (const dep of phase.dependsOn) {
      const a = pos.get(dep), b = pos.get(phase.name);
      if (a && b) svg.append(svgEl('path', { class: 'edge', d: `M${a.x + W},${a.y + H / 2} C${a.x + W + GX / 2},${a.y + H / 2} ${b.x - GX / 2},${b.y + H / 2} ${b.x},${b.y + H / 2}` }));
    }
  }
  for (const phase of phases) {
    const { x, y } = pos.get(phase.name);
    const status = statusOf.get(phase.name) ?? 'pending';
    const node = svgEl('g', { class: `node ${status}`, 'data-phase': phase.name });
    node.append(svgEl('rect', { x, y, width: W, height: H }));
    const title = svgEl('text', { x: x + 8, y: y + 18, 'font-weight': '600' });
    title.textContent = phase.name.length > 24 ? `${phase.name.slice(0, 23)}…` : phase.name;
    const sub = svgEl('text', { x: x + 8, y: y + 36 });
    sub.textContent = `${status} · ${phase.kind} · risk ${phase.risk}`;
    const tip = svgEl('title', {});
    tip.textContent = `${phase.name}: ${phase.description || ''}`;
    node.append(title, sub, tip);
    node.addEventListener('click', () => document.querySelector(`#steps tr[data-phase="${CSS.escape(phase.name)}"]`)?.scrollIntoView({ behavior: 'smooth', block: 'center' }));
    svg.append(node);
  }
}

function renderSteps() {
  const tbody = $('#steps tbody');
  const folders = new Map((state.status?.migrations ?? []).map((m) => [m.name, m.status]));
  const steps = state.status?.steps ?? [];
  tbody.replaceChildren(
    ...steps.map((step) => {
      const key = stepKey(step);
      const progress = step.processedRecords > 0 || step.totalRecords ? `${fmt(step.processedRecords)} / ${fmt(step.totalRecords)}` : '';
      const row = el(
        'tr',
        { 'data-step': key, 'data-phase': step.phase, class: `${step.kind === 'verify' ? '' : 'selectable'} ${key === state.selected ? 'selected' : ''}` },
        el('td', {}, step.phase),
        el('td', {}, step.name),
        el('td', {}, step.kind),
        el('td', {}, statusBadge(step.status), step.control ? el('span', { class: 'status flag' }, step.control === 'pause' ? 'paused' : 'cancel requested') : null),
        el('td', {}, progress),
        el('td', {}, ...step.folders.map((name) => el('span', { class: `folder folder-${folders.get(name) ?? 'pending'}`, title: `${name}: ${folders.get(name) ?? 'not on disk'}` }, name.split('_').slice(2).join('_') || name))),
      );
      if (step.kind !== 'verify') row.addEventListener('click', () => select(key, true));
      return row;
    }),
  );
}

function autoSelect() {
  const steps = (state.status?.steps ?? []).filter((s) => s.kind !== 'verify');
  const running = steps.find((s) => s.status === 'running' && s.processedRecords >= 0 && s.kind === 'data') ?? steps.find((s) => s.status === 'running');
  if (running && !state.pinned) return stepKey(running);
  if (state.selected) return state.selected;
  const started = steps.filter((s) => s.processedRecords > 0);
  return started.length > 0 ? stepKey(started[started.length - 1]) : null;
}

function select(key, pinned = false) {
  if (pinned) state.pinned = true;
  if (key === state.selected) return;
  state.selected = key;
  state.history = { row: null, entries: [], lastId: 0 };
  state.charts?.destroy();
  state.charts = null;
  render();
}

async function refreshHistory() {
  const key = state.selected;
  if (!key) return;
  const [phase, ...rest] = key.split('/');
  const body = await api(`/api/steps/${encodeURIComponent(phase)}/${encodeURIComponent(rest.join('/'))}/batches?after=${state.history.lastId}`);
  if (key !== state.selected) return;
  if (body.entries.length > 0) {
    state.history.entries = state.history.entries.concat(body.entries).slice(-10_000);
    state.history.lastId = body.entries[body.entries.length - 1].id;
  }
  state.charts ??= createStepCharts($('#charts'));
  state.charts.update(state.history.entries);
  renderDetail();
}

/** One history read at a time; a status that arrives meanwhile asks for one more read afterwards. */
function refreshSoon() {
  if (state.refreshing) {
    state.refreshAgain = true;
    return;
  }
  state.refreshing = refreshHistory()
    .catch((error) => ($('#message').textContent = error.message))
    .finally(() => {
      state.refreshing = null;
      if (state.refreshAgain) {
        state.refreshAgain = false;
        refreshSoon();
      }
    });
}

function recentRate(entries) {
  const batches = entries.filter((e) => e.kind === 'batch');
  if (batches.length === 0) return null;
  const end = (e) => Date.parse(e.startedAt) + e.durationMs;
  const last = end(batches[batches.length - 1]);
  const window = batches.filter((b) => end(b) >= last - 30_000);
  const span = (last - Date.parse(window[0].startedAt)) / 1000;
  return span > 0 ? window.reduce((sum, b) => sum + b.rows, 0) / span : null;
}

function coverageNote(c) {
  if (typeof c !== 'object' || c.total === undefined) return `coverage gate: ${JSON.stringify(c)}`;
  const pct = (x) => `${(100 * x).toFixed(x === 1 ? 0 : 2)} %`;
  const passed = c.passed ?? c.coverage >= c.threshold;
  return `coverage gate ${passed ? 'passed' : 'FAILED'}: ${fmt(c.satisfied)} of ${fmt(c.total)} rows (${pct(c.coverage)}, threshold ${pct(c.threshold)})`;
}

function renderDetail() {
  const step = (state.status?.steps ?? []).find((s) => stepKey(s) === state.selected);
  $('#selected-step').textContent = step ? stepKey(step) : '(none running)';
  const actions = state.plan?.allowActions && state.token;
  for (const button of document.querySelectorAll('#controls button')) {
    const action = button.dataset.action;
    const open = step && step.status !== 'completed' && step.status !== 'rolled_back';
    const allowed = Boolean(open && actions && (action === 'pause' ? step.control !== 'pause' : action === 'resume' ? step.control === 'pause' : step.status === 'running'));
    button.disabled = !allowed;
    button.title = state.plan?.allowActions ? (state.token ? '' : 'enter the action token below') : 'start the dashboard with --allow-actions';
  }
  if (!step) return;
  $('#step-status').replaceChildren(statusBadge(step.status));
  $('#processed').textContent = `${fmt(step.processedRecords)} / ${fmt(step.totalRecords)}`;
  const total = Math.max(step.totalRecords ?? 0, step.processedRecords);
  $('#progress-bar').style.width = `${total > 0 ? Math.min(100, (100 * step.processedRecords) / total) : step.status === 'completed' ? 100 : 0}%`;
  const entries = state.history.entries;
  const rate = step.status === 'running' ? recentRate(entries) : null;
  $('#rate').textContent = rate === null ? '–' : `${fmt(rate)} rows/s`;
  $('#eta').textContent = rate && step.totalRecords ? duration(Math.max(0, step.totalRecords - step.processedRecords) / rate) : step.status === 'completed' ? 'done' : '–';
  const count = (kind) => entries.filter((e) => e.kind === kind).length;
  const retries = entries.reduce((sum, e) => sum + (e.kind === 'pause' ? 0 : e.attempts - 1), 0);
  $('#batch-counts').textContent = `${fmt(count('batch'))} · ${fmt(retries)} · ${fmt(count('pause'))}`;
  $('#control-flag').replaceChildren(step.control ? el('span', { class: 'status flag' }, step.control === 'pause' ? 'paused' : 'cancel requested') : '');
  const notes = [];
  if (step.coverage) notes.push(coverageNote(step.coverage));
  if (step.lastError) notes.push(`last error: ${step.lastError}`);
  const states = [...new Set(entries.flatMap((e) => e.retryStates ?? []))];
  if (states.length > 0) notes.push(`retried on SQLSTATE ${states.join(', ')}`);
  const reasons = [...new Set(entries.filter((e) => e.kind === 'pause').map((e) => e.reason))];
  if (reasons.length > 0) notes.push(`paused for: ${reasons.join(', ')}`);
  $('#step-notes').replaceChildren(...notes.map((note) => el('div', {}, note)));
}

async function act(action) {
  const [phase, ...rest] = state.selected.split('/');
  $('#message').textContent = `${action}…`;
  try {
    const result = await api(`/api/steps/${encodeURIComponent(phase)}/${encodeURIComponent(rest.join('/'))}/${action}`, { method: 'POST', headers: { 'x-evolve-token': state.token } });
    $('#message').textContent = { pause: 'paused: workers stop within about 250 ms, after the batch in flight', resume: 'resumed', cancel: 'cancel requested: workers stop within about 250 ms, after the batch in flight' }[action] + (result.control === 'cancel' && action !== 'cancel' ? ' (a cancel is pending)' : '');
  } catch (error) {
    $('#message').textContent = `${action} failed: ${error.message}`;
  }
}

async function renderDeadLetters() {
  const page = await api(`/api/dead-letters?offset=${state.deadOffset}&limit=${DEAD_PAGE}`);
  $('#dead-total').textContent = `(${fmt(page.total)}${page.capped ? '+' : ''})`;
  $('#dead-reasons tbody').replaceChildren(...page.reasons.map((r) => el('tr', {}, el('td', {}, r.step), el('td', {}, r.reason), el('td', {}, fmt(r.count)))));
  $('#dead-items tbody').replaceChildren(...page.items.map((d) => el('tr', {}, el('td', {}, d.step), el('td', {}, d.key), el('td', {}, d.reason), el('td', {}, d.at), el('td', { class: 'muted' }, d.sample ?? ''))));
  $('#dead-page').textContent = page.total > 0 ? `${state.deadOffset + 1}–${Math.min(page.total, state.deadOffset + DEAD_PAGE)} of ${fmt(page.total)}` : 'none';
  $('#dead-prev').disabled = state.deadOffset === 0;
  $('#dead-next').disabled = state.deadOffset + DEAD_PAGE >= page.total;
}

async function runVerify() {
  $('#verify tbody').replaceChildren(el('tr', {}, el('td', { colspan: '4' }, 'verifying…')));
  try {
    const report = await api('/api/verify');
    const rows = report.checks.map((c) => el('tr', {}, el('td', {}, c.ok ? '✓' : '✗'), el('td', {}, c.phase), el('td', {}, c.name), el('td', {}, c.detail)));
    $('#verify tbody').replaceChildren(...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: '4' }, 'nothing to verify (no completed phase)'))]));
  } catch (error) {
    $('#verify tbody').replaceChildren(el('tr', {}, el('td', { colspan: '4' }, `verify failed: ${error.message}`)));
  }
}

async function renderLease() {
  const { holder } = await api('/api/lease');
  $('#lease').textContent = holder ? `lease: ${holder.application} (pid ${holder.pid}, since ${holder.since})` : 'lease: free (no run going on)';
}

function render() {
  if (!state.plan || !state.status) return;
  state.selected = autoSelect();
  renderGraph();
  renderSteps();
  renderDetail();
}

// The lease and the dead letters change rarely: read them at most every SIDE_MS, not on every status change.
const SIDE_MS = 5_000;
let sideAt = 0;
let sideTimer = null;
function refreshSide() {
  const wait = sideAt + SIDE_MS - Date.now();
  if (wait > 0) {
    sideTimer ??= setTimeout(() => { sideTimer = null; refreshSide(); }, wait);
    return;
  }
  sideAt = Date.now();
  renderLease().catch(() => undefined);
  renderDeadLetters().catch(() => undefined);
}

function onStatus(status) {
  state.status = status;
  render();
  refreshSoon();
  refreshSide();
}

async function main() {
  state.token = readToken();
  state.plan = await api('/api/plan');
  $('#plan-name').textContent = state.plan.name ? `· ${state.plan.name}` : '(no plan)';
  $('#database').textContent = state.plan.database;
  $('#actions-state').textContent = state.plan.allowActions ? 'actions enabled' : 'read-only';
  $('#token-section').hidden = !state.plan.allowActions || Boolean(state.token);
  $('#token-input').addEventListener('change', (event) => {
    state.token = event.target.value.trim();
    sessionStorage.setItem('evolve-token', state.token);
    renderDetail();
  });
  for (const button of document.querySelectorAll('#controls button')) button.addEventListener('click', () => act(button.dataset.action));
  $('#verify-run').addEventListener('click', runVerify);
  $('#dead-prev').addEventListener('click', () => { state.deadOffset = Math.max(0, state.deadOffset - DEAD_PAGE); renderDeadLetters(); });
  $('#dead-next').addEventListener('click', () => { state.deadOffset += DEAD_PAGE; renderDeadLetters(); });
  window.addEventListener('resize', () => state.charts?.resize());
  onStatus(await api('/api/status'));
  const events = new EventSource('/api/events');
  events.addEventListener('status', (event) => {
    $('#connection').textContent = `live (updated ${new Date().toLocaleTimeString()})`;
    onStatus(JSON.parse(event.data));
  });
  events.addEventListener('failure', (event) => ($('#connection').textContent = `status read failed: ${JSON.parse(event.data).error}`));
  events.addEventListener('error', () => ($('#connection').textContent = 'disconnected, retrying…'));
}

main().catch((error) => {
  document.body.prepend(el('div', { class: 'status status-failed' }, `dashboard failed to load: ${error.message}`));
});
