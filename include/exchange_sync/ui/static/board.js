// The Connections page: reads the board from api/board, and posts JSON (with the CSRF token from
// api/session) for Fix it, freeze, unfreeze and retry. No build step. Every value is put into the
// page as text (never as HTML), and no secret is ever put into the page: forms start empty.
"use strict";

const state = { session: null, rows: [], selected: new URLSearchParams(location.search).get("account") };
const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function getJSON(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (response.status === 401) { location.reload(); throw new Error("Not logged in"); }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || `HTTP ${response.status}`);
  return body;
}

async function postJSON(path, payload) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": state.session.csrf_token },
    body: JSON.stringify(payload || {}),
  });
  const body = await response.json().catch(() => ({}));
  return { ok: response.ok, status: response.status, body };
}

function when(iso) {
  if (!iso) return "—";
  const moment = new Date(iso);
  return moment.toISOString().replace("T", " ").slice(0, 16) + " UTC";
}

function notice(text, isError = false) {
  const box = $("notice");
  box.hidden = false;
  box.className = isError ? "error" : "";
  box.textContent = text;
}

function airflowLink(path, text) {
  // Airflow's own pages open in the whole window, not inside this page's frame.
  return el("a", { href: path, target: "_top" }, text);
}

function streamsList(streams) {
  const list = el("ul", { class: "streams" });
  for (const [name, info] of Object.entries(streams)) {
    list.append(el("li", {}, `${name}: ${info.rows} rows`, info.synced_until ? ` (until ${when(info.synced_until)})` : " (never)"));
  }
  return list;
}

function actionButtons(row) {
  const cell = el("td", { class: "actions" });
  const fix = el("button", { type: "button", "data-action": "fix" }, "Fix it");
  fix.addEventListener("click", () => openFix(row));
  cell.append(fix);
  if (row.state === "frozen") {
    const unfreeze = el("button", { type: "button", "data-action": "unfreeze" }, "Unfreeze");
    unfreeze.addEventListener("click", () => act(row, "unfreeze", {}));
    cell.append(unfreeze);
  } else {
    const freeze = el("button", { type: "button", "data-action": "freeze" }, "Freeze");
    freeze.addEventListener("click", () => openFreeze(row));
    cell.append(freeze);
    const retry = el("button", { type: "button", "data-action": "retry" }, "Retry now");
    retry.addEventListener("click", () => act(row, "retry", {}));
    cell.append(retry);
  }
  const csv = el("button", { type: "button", "data-action": "csv" }, "Upload CSV");
  csv.addEventListener("click", () => openCsv(row));
  cell.append(csv);
  return cell;
}

// The account's own last task instances and recovery runs, then the DAGs' whole run lists.
function runsCell(row) {
  const cell = el("td", { "data-field": "runs" });
  for (const [kind, runs] of [["import", row.runs.imports], ["recovery", row.runs.recoveries]]) {
    for (const run of runs) {
      const link = airflowLink(run.link, `${kind} ${when(run.run_after)}`);
      link.dataset.run = run.run_id;
      cell.append(el("div", {}, link, " ", el("span", { class: `run ${run.state}` }, run.state)));
    }
  }
  cell.append(el("div", { class: "muted" }, airflowLink(row.links.runs, "all import runs"), " · ", airflowLink(row.links.recovery_runs, "all recovery runs")));
  return cell;
}

function renderRow(row) {
  const tr = el("tr", { id: `row-${row.account}`, "data-account": row.account, "data-state": row.state });
  if (row.account === state.selected) tr.classList.add("selected");
  const warnings = el("td", { class: "warn" });
  for (const w of row.warnings) warnings.append(el("div", {}, w));
  tr.append(
    el("td", {}, row.exchange),
    el("td", {}, el("strong", {}, row.account), el("div", { class: "muted" }, row.conn_id)),
    el("td", {}, el("span", { class: `state ${row.colour}`, "data-field": "state" }, row.state_words)),
    el("td", { "data-field": "cause" }, row.cause || "—", row.remediation ? el("div", { class: "muted" }, row.remediation) : null),
    el("td", { "data-field": "since" }, when(row.since)),
    el("td", { "data-field": "stale-since" }, when(row.stale_since)),
    el("td", { "data-field": "gap" }, row.gap || "—", row.last_gap ? el("div", { class: "muted", "data-field": "last-gap" }, row.last_gap.words) : null),
    el("td", { "data-field": "last-sync" }, when(row.last_success_at)),
    el("td", {}, streamsList(row.streams)),
    el("td", { "data-field": "fingerprint" }, row.fingerprint ? el("code", {}, row.fingerprint) : "none"),
    warnings,
    runsCell(row),
    actionButtons(row),
  );
  return tr;
}

function fillFilter(select, values) {
  const current = select.value;
  select.replaceChildren(el("option", { value: "" }, "all"), ...values.map((v) => el("option", { value: v }, v)));
  select.value = values.includes(current) ? current : "";
}

async function loadBoard() {
  const params = new URLSearchParams();
  if ($("filter-exchange").value) params.set("exchange", $("filter-exchange").value);
  if ($("filter-state").value) params.set("state", $("filter-state").value);
  const data = await getJSON(`api/board?${params}`);
  fillFilter($("filter-exchange"), data.exchanges);
  fillFilter($("filter-state"), data.states);
  state.rows = data.rows;
  $("board").tBodies[0].replaceChildren(...data.rows.map(renderRow));
  $("updated").textContent = `updated ${when(data.generated_at)}`;
  const invalid = $("invalid");
  invalid.hidden = data.invalid_entries.length === 0;
  invalid.replaceChildren(el("h2", {}, "Invalid registry entries (not imported until fixed)"), ...data.invalid_entries.map((e) => el("div", { class: "warn" }, e)));
  return data;
}

async function act(row, action, payload) {
  const result = await postJSON(`api/accounts/${encodeURIComponent(row.account)}/${action}`, payload);
  notice(result.body.message || result.body.error || result.body.detail || `HTTP ${result.status}`, !result.ok);
  await loadBoard();
}

function openFreeze(row) {
  $("freeze-account").textContent = row.account;
  $("freeze-reason").value = "";
  $("freeze-final-sync").checked = false;
  $("freeze-form").onsubmit = async (event) => {
    event.preventDefault();
    $("freeze-dialog").close();
    await act(row, "freeze", { reason: $("freeze-reason").value, final_sync: $("freeze-final-sync").checked });
  };
  $("freeze-dialog").showModal();
}

function openCsv(row) {
  $("csv-account").textContent = row.account;
  $("csv-file").value = "";
  const result = $("csv-result");
  result.hidden = true;
  $("csv-form").onsubmit = async (event) => {
    event.preventDefault();
    const file = $("csv-file").files[0];
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    result.hidden = false; result.className = ""; result.textContent = `Importing ${file.name} …`;
    $("csv-import").disabled = true;
    const answer = await postJSON(`api/accounts/${encodeURIComponent(row.account)}/csv`, { file_name: file.name, content_base64: btoa(binary) });
    $("csv-import").disabled = false;
    result.className = answer.ok ? "" : "error";
    result.textContent = answer.body.message || answer.body.error || answer.body.detail || `HTTP ${answer.status}`;
    await loadBoard();
  };
  $("csv-dialog").showModal();
}

async function openFix(row) {
  const form = await getJSON(`api/accounts/${encodeURIComponent(row.account)}/form`);
  $("fix-account").textContent = `${form.account} (${form.exchange})`;
  $("fix-current").textContent = form.current.problem
    ? `The connection ${form.conn_id} cannot be used now: ${form.current.problem}`
    : `The connection ${form.conn_id} holds key ${form.current.fingerprint}. Enter the new key; nothing is pre-filled.`;
  const fields = $("fix-fields");
  fields.replaceChildren();
  for (const field of form.fields) {
    const input = field.kind === "pem"
      ? el("textarea", { name: field.name, id: `fix-${field.name}`, placeholder: field.placeholder || "", spellcheck: false })
      : el("input", { name: field.name, id: `fix-${field.name}`, type: field.kind === "password" ? "password" : "text", placeholder: field.placeholder || "", autocomplete: "off", spellcheck: false });
    fields.append(el("label", {}, field.label, input));
  }
  const result = $("fix-result");
  result.hidden = true;
  $("fix-save").disabled = !form.can_save;
  if (!form.can_save) { result.hidden = false; result.className = "error"; result.textContent = "You may not edit this connection in Airflow."; }
  $("fix-form").onsubmit = async (event) => {
    event.preventDefault();
    const payload = {};
    for (const field of form.fields) payload[field.name] = $(`fix-${field.name}`).value;
    $("fix-save").disabled = true;
    result.hidden = false; result.className = ""; result.textContent = "Checking the keys with the exchange …";
    const answer = await postJSON(`api/accounts/${encodeURIComponent(row.account)}/keys`, payload);
    $("fix-save").disabled = false;
    if (answer.ok && answer.body.saved) {
      for (const field of form.fields) $(`fix-${field.name}`).value = "";
      result.className = "";
      result.replaceChildren(el("div", {}, answer.body.message), ...(answer.body.warnings || []).map((w) => el("div", { class: "warn" }, w)));
      await loadBoard();
    } else {
      // Refused: the secret is not kept in the page a moment longer than needed.
      for (const field of form.fields) if (field.kind === "password" || field.kind === "pem") $(`fix-${field.name}`).value = "";
      result.className = "error";
      const body = answer.body;
      result.replaceChildren(el("div", {}, body.error || body.detail || `HTTP ${answer.status}`), body.remediation ? el("div", { class: "muted" }, body.remediation) : null);
    }
  };
  $("fix-cancel").onclick = () => $("fix-dialog").close();
  $("fix-dialog").showModal();
}

// The account named in the address (?account=ID): its row in view, and with #fix its form open.
async function showSelected() {
  if (!state.selected) return;
  const row = state.rows.find((r) => r.account === state.selected);
  const tr = $(`row-${state.selected}`);
  if (tr) tr.scrollIntoView({ block: "center" });
  if (row && location.hash === "#fix" && !$("fix-dialog").open) await openFix(row);
}

async function start() {
  state.session = await getJSON("api/session");
  $("who").textContent = `Logged in as ${state.session.user}.`;
  $("filter-exchange").addEventListener("change", loadBoard);
  $("filter-state").addEventListener("change", loadBoard);
  $("refresh").addEventListener("click", loadBoard);
  $("freeze-cancel").onclick = () => $("freeze-dialog").close();
  $("csv-cancel").onclick = () => $("csv-dialog").close();
  await loadBoard();
  await showSelected();
  // A link to #fix followed from this very page (no reload) opens the form too.
  window.addEventListener("hashchange", () => showSelected().catch(() => {}));
  // The board follows the pipeline without a reload (waiting → healthy after Fix it).
  setInterval(() => { if (!$("fix-dialog").open && !$("freeze-dialog").open) loadBoard().catch(() => {}); }, 5000);
}

start().catch((error) => notice(`The board could not be loaded: ${error.message}`, true));
