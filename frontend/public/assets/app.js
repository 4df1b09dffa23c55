// The Dice Roller page. Everything that comes from the network is inserted as
// text (textContent, <option> values, attribute values), never as HTML, and the
// page needs no inline script or style: it runs under a strict
// Content-Security-Policy.
'use strict';

const HISTORY_LENGTH = 10;
const DICE_RETRY_FIRST_MS = 1000;
const DICE_RETRY_MAX_MS = 5000;
/** The frontend answers within DICE_ROLLER_TIMEOUT_MS; this only guards against a lost connection. */
const ROLL_TIMEOUT_MS = 30_000;
const TRACE_ID = /^[0-9a-f]{32}$/;
/** How much time on each side of a roll Grafana searches for its trace and logs. */
const LINK_RANGE_MS = 60_000;

/** The chain, in call order. Each service names its Server-Timing entries after itself. */
const HOPS = ['frontend', 'dice-roller', 'die-service'];
/**
 * dice-roller's entry for each roll of a batch, which Server-Timing carries like any
 * other: `dice-roller.roll.3;dur=412.3;desc="roll 3 started 2.1 ms into dice-roller"`.
 * Server-Timing has durations only, so the start is in the description.
 */
const ROLL_ENTRY = /^dice-roller\.roll\.(\d+)$/;
const ROLL_START = /\bstarted (\d+(?:\.\d+)?) ms into dice-roller\b/;

const $ = (id) => document.getElementById(id);
const form = $('roll-form');
const dieSelect = $('die');
const timesInput = $('times');
const rollButton = $('roll');
const diceStatus = $('dice-status');
const result = $('result');
const resultAnnouncement = $('result-announcement');
const resultValue = $('result-value');
const resultDetail = $('result-detail');
const resultRolls = $('result-rolls');
const resultDie = $('result-die');
const resultLatency = $('result-latency');
const resultStatus = $('result-status');
const resultTrace = $('result-trace');
const copyButton = $('copy-trace');
const copyStatus = $('copy-status');
const grafanaLinks = $('grafana-links');
const waterfall = $('waterfall');
const waterfallEmpty = $('waterfall-empty');
const legendRolls = $('legend-rolls');
const legendFailedRolls = $('legend-failed-rolls');
const historyEmpty = $('history-empty');
const historyScroll = $('history-scroll');
const historyRows = $('history-rows');

/** Grafana link templates from /ui-config, or null when GRAFANA_URL is not set. */
let linkTemplates = null;
let uiConfigLoaded = Promise.resolve();
let rolling = false;
let diceRetryTimer;
const history = [];

/** "fair" -> "Fair", "loaded_d20" -> "Loaded d20". */
function displayName(identifier) {
  const words = identifier.replace(/[_-]+/g, ' ').trim() || identifier;
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function formatMs(ms) {
  return ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- Server-Timing --------------------------------------------------------------

/**
 * The entries of a Server-Timing header by name: { duration, description }. Reads
 * `name;dur=12.3;desc="text", ...`; unknown parameters are ignored, the first
 * entry of a name and the first value of a parameter win.
 */
function parseServerTiming(header) {
  const entries = new Map();
  let entry = null;
  let param = null;
  let expectValue = false;
  for (const [, word, quoted, mark] of (header || '').matchAll(/([^\s,;="]+)|"((?:[^"\\]|\\.)*)"|([,;=])/g)) {
    if (mark === ',') {
      entry = null;
      param = null;
      expectValue = false;
    } else if (mark === ';') {
      param = null;
      expectValue = false;
    } else if (mark === '=') {
      expectValue = entry !== null && param !== null;
    } else if (entry === null) {
      entry = {};
      if (word !== undefined && !entries.has(word)) entries.set(word, entry);
    } else if (!expectValue) {
      param = (word ?? '').toLowerCase();
    } else {
      const value = word ?? quoted.replace(/\\(.)/g, '$1');
      if (param === 'dur' && entry.duration === undefined && Number.isFinite(Number(value))) {
        entry.duration = Number(value);
      } else if (param === 'desc' && entry.description === undefined) {
        entry.description = value;
      }
      expectValue = false;
    }
  }
  return entries;
}

/**
 * The hops of one request, placed on a common time line (ms from the frontend's
 * start). Server-Timing gives durations, not start times: each service calls the
 * next one first thing, so a callee is placed at the start of its caller's wait,
 * with the time its call spent on the network split evenly before and after it.
 */
function journey(timings) {
  const hops = [];
  let start = 0;
  for (const [index, service] of HOPS.entries()) {
    const duration = timings.get(service)?.duration;
    if (duration === undefined) break;
    const wait = timings.get(`${service}.wait`)?.duration;
    hops.push({ service, start, duration, wait, waitsOn: HOPS[index + 1] });
    const next = timings.get(HOPS[index + 1] ?? '')?.duration;
    if (wait === undefined || next === undefined) break;
    start += Math.max(0, (wait - next) / 2);
  }
  return hops;
}

/**
 * The rolls of a batch on the same time line, one lane each, from dice-roller's
 * per-roll entries: each starts where its description says, counted from
 * dice-roller's own start. Lanes that overlap ran at the same time.
 */
function rollLanes(timings, diceRollerStart) {
  const lanes = [];
  for (const [name, entry] of timings) {
    const index = ROLL_ENTRY.exec(name)?.[1];
    const offset = ROLL_START.exec(entry.description ?? '')?.[1];
    if (index === undefined || offset === undefined || entry.duration === undefined) continue;
    lanes.push({
      index: Number(index),
      start: diceRollerStart + Number(offset),
      duration: entry.duration,
      failed: /\bfailed\b/.test(entry.description),
    });
  }
  return lanes.sort((a, b) => a.index - b.index);
}

/** One row of the waterfall: a name, a bar at `start` lasting `duration` on the shared scale, the time. */
function waterfallRow(className, name, title, start, duration, percent) {
  const row = element('li', className);
  row.title = title;
  row.append(element('span', 'hop-name', name));
  const track = element('span', 'hop-track');
  track.setAttribute('aria-hidden', 'true');
  const bar = element('span', 'hop-bar');
  // CSSOM properties, which a Content-Security-Policy without 'unsafe-inline'
  // allows (a style="" attribute in markup it would block).
  bar.style.left = percent(start);
  bar.style.width = percent(duration);
  track.append(bar);
  row.append(track);
  return { row, bar };
}

function drawWaterfall(timings) {
  const hops = journey(timings);
  const diceRoller = hops.find((hop) => hop.service === 'dice-roller');
  const lanes = diceRoller === undefined ? [] : rollLanes(timings, diceRoller.start);
  waterfall.replaceChildren();
  waterfallEmpty.hidden = hops.length > 0;
  legendRolls.hidden = lanes.length === 0;
  legendFailedRolls.hidden = !lanes.some((lane) => lane.failed);
  const scale = Math.max(...[...hops, ...lanes].map((hop) => hop.start + hop.duration), 0.001);
  const percent = (ms) => `${Math.min(100, (ms / scale) * 100).toFixed(2)}%`;
  for (const hop of hops) {
    const waitText =
      hop.wait === undefined ? '' : `, ${formatMs(hop.wait)} of it waiting on ${hop.waitsOn ?? 'its upstream'}`;
    const title = `${hop.service}: ${formatMs(hop.duration)}${waitText}`;
    const { row, bar } = waterfallRow(`hop hop-${hop.service}`, hop.service, title, hop.start, hop.duration, percent);
    if (hop.wait !== undefined && hop.duration > 0) {
      // The lighter part of the bar: waiting on the next service (from the start, as above).
      const waiting = element('span', 'hop-wait');
      waiting.style.width = `${Math.min(100, (hop.wait / hop.duration) * 100).toFixed(2)}%`;
      bar.append(waiting);
    }
    const time = element('span', 'hop-time', formatMs(hop.duration));
    if (waitText) time.append(element('span', 'visually-hidden', waitText));
    row.append(time);
    waterfall.append(row);
  }
  for (const lane of lanes) {
    // Named as the page counts dice (from 1); failed_rolls and the spans count from 0.
    const name = `die ${lane.index + 1}`;
    const outcome = lane.failed ? ', failed' : '';
    const title = `${name}: ${formatMs(lane.duration)}, from ${formatMs(lane.start - diceRoller.start)} into dice-roller${outcome}`;
    const className = `hop hop-roll${lane.failed ? ' hop-roll-failed' : ''}`;
    const { row } = waterfallRow(className, name, title, lane.start, lane.duration, percent);
    const time = element('span', 'hop-time', formatMs(lane.duration));
    if (lane.failed) time.append(element('span', 'visually-hidden', ', failed'));
    row.append(time);
    waterfall.append(row);
  }
}

// --- Grafana links ---------------------------------------------------------------

function grafanaLink(template, traceId, startedAt) {
  return template
    .replaceAll('__TRACE_ID__', traceId)
    .replaceAll('__FROM_MS__', String(Math.floor(startedAt - LINK_RANGE_MS)))
    .replaceAll('__TO_MS__', String(Math.ceil(startedAt + LINK_RANGE_MS)));
}

/** A link that opens in a new tab, without giving that tab a handle on this page. */
function externalLink(href, text) {
  const link = element('a', '', text);
  link.href = href;
  link.target = '_blank';
  link.rel = 'noopener noreferrer';
  return link;
}

function showLinks(traceId, startedAt) {
  const available = linkTemplates !== null && TRACE_ID.test(traceId);
  grafanaLinks.hidden = !available;
  grafanaLinks.replaceChildren();
  if (!available) return;
  grafanaLinks.append(
    externalLink(grafanaLink(linkTemplates.trace, traceId, startedAt), 'View the trace in Grafana'),
    externalLink(grafanaLink(linkTemplates.logs, traceId, startedAt), 'View its logs in Grafana'),
  );
}

async function loadUiConfig() {
  try {
    const response = await fetch('/ui-config', { headers: { accept: 'application/json' } });
    const config = await response.json();
    const links = config?.links;
    if (typeof links?.trace === 'string' && typeof links?.logs === 'string') linkTemplates = links;
  } catch {
    // Without the configuration the page works the same, only without links.
  }
}

// --- Dice ------------------------------------------------------------------------

async function fetchDice() {
  const response = await fetch('/dice', { headers: { accept: 'application/json' } });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !Array.isArray(body.identifiers)) {
    throw new Error(body.detail || `the frontend answered HTTP ${response.status}`);
  }
  return body.identifiers.filter((identifier) => typeof identifier === 'string');
}

function fillDice(identifiers) {
  const selected = dieSelect.value;
  dieSelect.replaceChildren(...identifiers.map((identifier) => new Option(displayName(identifier), identifier)));
  if (identifiers.includes(selected)) dieSelect.value = selected;
  dieSelect.disabled = false;
  rollButton.disabled = false;
}

/** Loads the dice, retrying with a growing pause while die-service is unavailable. */
async function loadDice(retryMs = DICE_RETRY_FIRST_MS) {
  clearTimeout(diceRetryTimer);
  try {
    fillDice(await fetchDice());
    diceStatus.textContent = '';
  } catch (error) {
    if (dieSelect.disabled) dieSelect.replaceChildren(new Option('Dice unavailable', ''));
    diceStatus.textContent = `Could not load the dice (${error.message}). Trying again in ${Math.round(retryMs / 1000)} s…`;
    diceRetryTimer = setTimeout(() => loadDice(Math.min(retryMs * 2, DICE_RETRY_MAX_MS)), retryMs);
  }
}

// --- Rolling ---------------------------------------------------------------------

/** The values of a batch's answer, `{"total": 9, "rolls": [3, 5, 1], "count": 3}`, or undefined. */
function batchRolls(body) {
  const rolls = body?.rolls;
  if (!Array.isArray(rolls) || !rolls.every((value) => typeof value === 'number')) return undefined;
  return typeof body.total === 'number' ? rolls : undefined;
}

/** One roll (or batch of rolls) as the page shows it, whatever its outcome. */
function outcomeOf(die, times, response, body, latencyMs) {
  const traceId = typeof body?.trace_id === 'string' ? body.trace_id : '';
  if (response.ok && times === 1 && typeof body?.roll === 'number') {
    return {
      ok: true,
      die,
      times,
      value: String(body.roll),
      detail: '',
      status: response.status,
      traceId,
      latencyMs,
    };
  }
  const rolls = response.ok && times > 1 ? batchRolls(body) : undefined;
  if (rolls !== undefined) {
    return {
      ok: true,
      die,
      times,
      value: String(body.total),
      rolls,
      detail: `the total of ${rolls.length} dice`,
      status: response.status,
      traceId,
      latencyMs,
    };
  }
  return {
    ok: false,
    die,
    times,
    value: typeof body?.title === 'string' ? body.title : 'Error',
    detail: typeof body?.detail === 'string' ? body.detail : `The frontend answered HTTP ${response.status}`,
    status: response.status,
    traceId,
    latencyMs,
  };
}

/** "Fair", or "Fair × 5" for a batch. */
function diceName(outcome) {
  return outcome.times > 1 ? `${displayName(outcome.die)} × ${outcome.times}` : displayName(outcome.die);
}

function announcement(outcome) {
  if (!outcome.ok) return `${outcome.value}: ${outcome.detail}`;
  const took = formatMs(outcome.latencyMs);
  if (outcome.rolls === undefined)
    return `Rolled ${outcome.value} with the ${displayName(outcome.die)} die in ${took}.`;
  return `Rolled ${outcome.rolls.length} ${displayName(outcome.die)} dice in ${took}: ${outcome.rolls.join(', ')}, total ${outcome.value}.`;
}

function showRolls(rolls) {
  resultRolls.hidden = rolls === undefined;
  resultRolls.replaceChildren(
    ...(rolls ?? []).map((value, index) => {
      const item = element('li', 'roll', String(value));
      item.title = `die ${index + 1}`;
      return item;
    }),
  );
}

function showResult(outcome, timings, startedAt) {
  result.hidden = false;
  result.classList.toggle('failed', !outcome.ok);
  resultValue.textContent = outcome.value;
  resultDetail.textContent = outcome.detail;
  resultDetail.hidden = outcome.detail === '';
  showRolls(outcome.rolls);
  // One sentence for screen readers, announced once per roll.
  resultAnnouncement.textContent = announcement(outcome);
  resultDie.textContent = diceName(outcome);
  resultLatency.textContent = formatMs(outcome.latencyMs);
  resultStatus.textContent = outcome.status === 0 ? 'no response' : `HTTP ${outcome.status}`;
  resultTrace.textContent = outcome.traceId || 'none';
  copyButton.hidden = !outcome.traceId;
  copyStatus.textContent = '';
  showLinks(outcome.traceId, startedAt);
  drawWaterfall(timings);
}

function addToHistory(outcome, startedAt) {
  history.unshift({ ...outcome, startedAt });
  history.length = Math.min(history.length, HISTORY_LENGTH);
  historyEmpty.hidden = true;
  historyScroll.hidden = false;
  historyRows.replaceChildren(
    ...history.map((entry) => {
      const row = element('tr', entry.ok ? 'ok' : 'failed');
      row.append(
        element('td', '', diceName(entry)),
        element('td', 'outcome', entry.value),
        element('td', 'number', formatMs(entry.latencyMs)),
        element('td', 'number', entry.status === 0 ? '–' : String(entry.status)),
      );
      const traceCell = element('td', 'trace-id');
      const code = element('code', '', entry.traceId || '–');
      if (linkTemplates !== null && TRACE_ID.test(entry.traceId)) {
        const link = externalLink(grafanaLink(linkTemplates.trace, entry.traceId, entry.startedAt));
        link.append(code);
        traceCell.append(link);
      } else {
        traceCell.append(code);
      }
      row.append(traceCell);
      return row;
    }),
  );
}

async function roll(event) {
  event.preventDefault();
  const die = dieSelect.value;
  // The form's own validation (min 1, max 20, whole numbers) has run before submit.
  const times = Number(timesInput.value);
  if (rolling || die === '' || !Number.isInteger(times)) return;
  // The button stays focusable while a roll is in flight (a disabled button
  // would drop the keyboard focus); aria-disabled tells assistive technology.
  rolling = true;
  rollButton.setAttribute('aria-disabled', 'true');
  rollButton.textContent = 'Rolling…';
  result.setAttribute('aria-busy', 'true');
  const startedAt = Date.now();
  const started = performance.now();
  let outcome;
  let timings = new Map();
  try {
    // One die is a plain roll; several are one batch, rolled side by side by dice-roller.
    const path =
      times === 1
        ? `/roll?die=${encodeURIComponent(die)}`
        : `/roll-async?die=${encodeURIComponent(die)}&times=${times}`;
    const response = await fetch(path, {
      headers: { accept: 'application/json' },
      signal: AbortSignal.timeout(ROLL_TIMEOUT_MS),
    });
    const body = await response.json().catch(() => null);
    timings = parseServerTiming(response.headers.get('server-timing'));
    outcome = outcomeOf(die, times, response, body, performance.now() - started);
    // A die that is gone from die-service: the list on the page is out of date.
    if (response.status === 404) loadDice();
  } catch (error) {
    const timedOut = error?.name === 'TimeoutError';
    outcome = {
      ok: false,
      die,
      times,
      value: timedOut ? 'No answer' : 'Network error',
      detail: timedOut
        ? `The frontend did not answer within ${ROLL_TIMEOUT_MS / 1000} s`
        : 'The frontend could not be reached',
      status: 0,
      traceId: '',
      latencyMs: performance.now() - started,
    };
  } finally {
    await uiConfigLoaded;
    rolling = false;
    rollButton.removeAttribute('aria-disabled');
    rollButton.textContent = 'Roll';
    result.removeAttribute('aria-busy');
  }
  showResult(outcome, timings, startedAt);
  addToHistory(outcome, startedAt);
}

// --- Copy ------------------------------------------------------------------------

async function copyTraceId() {
  const traceId = resultTrace.textContent;
  try {
    await navigator.clipboard.writeText(traceId);
    copyStatus.textContent = 'Trace ID copied.';
  } catch {
    // No clipboard access (a page served over plain HTTP from another host is not
    // a secure context): select the id so that one key press copies it.
    window.getSelection()?.selectAllChildren(resultTrace);
    copyStatus.textContent = 'Trace ID selected: press Ctrl+C (⌘C on a Mac) to copy it.';
  }
}

// --- Fault lab ---------------------------------------------------------------------

const FAULTS_REFRESH_MS = 5000;
const faultsNotice = $('faults');

/** Says which faults the fault lab has switched on (read-only: GET /faults), checked every few seconds. */
async function showFaults() {
  try {
    const response = await fetch('/faults', { headers: { accept: 'application/json' } });
    const body = await response.json();
    const active = Array.isArray(body?.active) ? body.active : [];
    const names = active.map((fault) => `${fault.fault} (${fault.value})`).join(', ');
    faultsNotice.textContent =
      active.length === 0 ? '' : `Fault lab: ${names} switched on. npm run fault -- reset switches every fault off.`;
    faultsNotice.hidden = active.length === 0;
  } catch {
    // The notice only informs: the page works the same without it.
  } finally {
    setTimeout(showFaults, FAULTS_REFRESH_MS);
  }
}

form.addEventListener('submit', roll);
copyButton.addEventListener('click', copyTraceId);
showFaults();
uiConfigLoaded = loadUiConfig();
loadDice();
