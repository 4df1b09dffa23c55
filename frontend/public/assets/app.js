// The Dice Roller page. Everything from the network is inserted with textContent
// or as <option> values, never as HTML.
'use strict';

const DICE_RETRY_MS = 3000;

const form = document.getElementById('roll-form');
const dieSelect = document.getElementById('die');
const rollButton = document.getElementById('roll');
const diceStatus = document.getElementById('dice-status');
const result = document.getElementById('result');
const resultValue = document.getElementById('result-value');
const resultDetail = document.getElementById('result-detail');
const resultTrace = document.getElementById('result-trace');

function displayName(identifier) {
  return identifier.charAt(0).toUpperCase() + identifier.slice(1);
}

async function loadDice() {
  try {
    const response = await fetch('/dice', { headers: { accept: 'application/json' } });
    const body = await response.json();
    if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
    dieSelect.replaceChildren(...body.identifiers.map((identifier) => new Option(displayName(identifier), identifier)));
    dieSelect.disabled = false;
    rollButton.disabled = false;
    diceStatus.textContent = '';
  } catch (error) {
    diceStatus.textContent = `Dice unavailable (${error.message}); retrying…`;
    setTimeout(loadDice, DICE_RETRY_MS);
  }
}

function showResult({ ok, value, detail, traceId }) {
  result.hidden = false;
  result.classList.toggle('error', !ok);
  resultValue.textContent = value;
  resultDetail.textContent = detail;
  resultTrace.textContent = traceId || '–';
}

async function roll(event) {
  event.preventDefault();
  const die = dieSelect.value;
  rollButton.disabled = true;
  rollButton.textContent = 'Rolling…';
  const started = performance.now();
  try {
    const response = await fetch(`/roll?die=${encodeURIComponent(die)}`, { headers: { accept: 'application/json' } });
    const body = await response.json();
    const took = `${Math.round(performance.now() - started)} ms`;
    if (response.ok) {
      showResult({
        ok: true,
        value: String(body.roll),
        detail: `${displayName(die)} die, ${took}`,
        traceId: body.trace_id,
      });
    } else {
      showResult({
        ok: false,
        value: body.title || 'Error',
        detail: `${body.detail} (HTTP ${response.status}, ${took})`,
        traceId: body.trace_id,
      });
    }
  } catch (error) {
    showResult({ ok: false, value: 'Network error', detail: error.message, traceId: '' });
  } finally {
    rollButton.disabled = false;
    rollButton.textContent = 'Roll';
  }
}

form.addEventListener('submit', roll);
loadDice();
