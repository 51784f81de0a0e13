/*
 * The image search console: plain JavaScript, no build step. Everything goes through the operator API
 * (/api/v1/operators/image-search) with the signed-in API key, plus two reads under /_gateway/console
 * (session: tenant and which models read text; thumbnail: a small JPEG of a stored image).
 */
'use strict';

const API = '/api/v1/operators/image-search';
const CONSOLE_API = '/_gateway/console';
const KEY_STORAGE = 'isg-console-key';
const PAGE_SIZE = 48;
const UPLOAD_CONCURRENCY = 2;

const $ = (id) => document.getElementById(id);
const state = {
  key: sessionStorage.getItem(KEY_STORAGE) || '',
  session: null,
  libraries: [],
  current: null,
  filter: undefined,
  cursor: null,
  queryImage: null,
  thumbUrls: [],
};

// ---- HTTP -----------------------------------------------------------------------------------------

function authHeaders() {
  return state.key ? { Authorization: `Bearer ${state.key}` } : {};
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** POST an operator operation; resolves `data` or throws ApiError with the API's status and message. */
async function op(path, body) {
  const res = await fetch(`${API}/${path}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...authHeaders() }, body: JSON.stringify(body) });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok || answer.status !== 'SUCCESS') throw new ApiError(res.status, answer.status, answer.message || `HTTP ${res.status}`);
  return answer.data;
}

async function consoleGet(path) {
  const res = await fetch(`${CONSOLE_API}/${path}`, { headers: authHeaders() });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new ApiError(res.status, body.error && body.error.code, (body.error && body.error.message) || `HTTP ${res.status}`);
  }
  return res;
}

/** image/add through XMLHttpRequest, for upload progress. */
function uploadImage(body, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${API}/image/add`);
    xhr.setRequestHeader('Content-Type', 'application/json');
    if (state.key) xhr.setRequestHeader('Authorization', `Bearer ${state.key}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let answer = {};
      try {
        answer = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status === 200 && answer.status === 'SUCCESS') resolve(answer.data);
      else reject(new ApiError(xhr.status, answer.status, answer.message || `HTTP ${xhr.status}`));
    };
    xhr.onerror = () => reject(new ApiError(0, 'NETWORK', 'The gateway could not be reached.'));
    xhr.send(JSON.stringify(body));
  });
}

// ---- small helpers --------------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

let toastTimer;
function toast(message, bad = false) {
  const t = $('toast');
  t.textContent = message;
  t.className = bad ? 'toast bad' : 'toast';
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 5000);
}

function fileToBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** A tag value as typed: numbers and booleans keep their type, anything else is text. */
function typedValue(raw) {
  const v = raw.trim().replace(/^"(.*)"$/, '$1');
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  return v;
}

const CONDITION = /^\s*([^=!<>\s][^=!<>]*?)\s*(>=|<=|!=|=|>|<)\s*(.+?)\s*$/;

/** "color=red, size>=40" → operator tag_filter (AND of conditions); throws on a part it cannot read. */
function parseFilter(text) {
  const parts = text.split(',').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) return undefined;
  return parts.map((part) => {
    const m = CONDITION.exec(part);
    if (!m) throw new Error(`Cannot read "${part}": write key=value, key!=value, key>=number …`);
    return { field: m[1], op: m[2], value: typedValue(m[3]) };
  });
}

/** "color=red, season=summer" → tags object for uploads. */
function parseTags(text) {
  const tags = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`Cannot read tag "${part}": write key=value`);
    tags[part.slice(0, i).trim()] = typedValue(part.slice(i + 1));
  }
  return tags;
}

function releaseThumbs() {
  for (const url of state.thumbUrls) URL.revokeObjectURL(url);
  state.thumbUrls = [];
}

/** A thumbnail box; the image is fetched with the API key and shown from a blob: URL. */
function thumbnail(image) {
  const box = el('div', { class: 'thumb' });
  if (!image.saved_image && image.saved_image !== undefined) {
    box.textContent = 'no stored image';
    return box;
  }
  const q = new URLSearchParams({ library: state.current.library_name, image_id: image.image_id, image_uri: image.image_uri });
  consoleGet(`thumbnail?${q}`)
    .then((res) => res.blob())
    .then((blob) => {
      const url = URL.createObjectURL(blob);
      state.thumbUrls.push(url);
      box.append(el('img', { src: url, alt: image.image_id, loading: 'lazy' }));
    })
    .catch(() => (box.textContent = 'no stored image'));
  return box;
}

function tagChips(tags) {
  const box = el('div', { class: 'tags' });
  for (const [k, v] of Object.entries(tags || {})) {
    box.append(el('button', { type: 'button', class: 'tag', title: 'Filter by this tag', text: `${k}: ${v}`, onclick: () => addFilter(k, v) }));
  }
  return box;
}

function addFilter(key, value) {
  const input = $('tag-filter');
  const part = `${key}=${value}`;
  input.value = input.value.trim() ? `${input.value.trim()}, ${part}` : part;
  applyFilter();
}

// ---- sign in --------------------------------------------------------------------------------------

async function signIn(key) {
  const previous = state.key;
  state.key = key;
  let res;
  try {
    res = await consoleGet('session');
  } catch (err) {
    state.key = previous;
    throw err;
  }
  state.session = await res.json();
  // A new tenant: forget the library that was open.
  state.current = null;
  releaseThumbs();
  $('library-view').hidden = true;
  $('empty-state').hidden = false;
  sessionStorage.setItem(KEY_STORAGE, key);
  const open = state.session.auth === 'open';
  $('tenant-name').textContent = state.session.tenant;
  $('who').hidden = false;
  // Open mode has no keys to sign out of: offer a tenant switch instead.
  $('switch-key').hidden = !open;
  $('sign-out').hidden = open;
  $('sign-in').hidden = true;
  $('app').hidden = false;
  const models = $('new-model');
  models.replaceChildren(...state.session.models.map((m) => el('option', { value: m.name, text: m.text ? `${m.name} (image + text)` : `${m.name} (image)` })));
  await loadLibraries();
}

/** Shows the key form: the sign-in of verify mode, or open mode's tenant switch (which can be cancelled). */
function showKeyForm(switching) {
  $('sign-in-title').textContent = switching ? 'Switch tenant' : 'Sign in';
  $('sign-in-help').hidden = switching;
  $('switch-help').hidden = !switching;
  $('switch-cancel').hidden = !switching;
  $('sign-in-error').hidden = true;
  $('api-key').value = '';
  $('sign-in-form').querySelector('button[type=submit]').textContent = switching ? 'Switch' : 'Sign in';
  $('sign-in').hidden = false;
  $('app').hidden = true;
  $('api-key').focus();
}

function signOut() {
  sessionStorage.removeItem(KEY_STORAGE);
  state.key = '';
  state.session = null;
  state.current = null;
  releaseThumbs();
  $('app').hidden = true;
  $('who').hidden = true;
  showKeyForm(false);
}

// ---- libraries ------------------------------------------------------------------------------------

function modelReadsText(library) {
  const model = state.session.models.find((m) => m.name === library.model);
  return Boolean(model && model.text) && library.mode === 'general_search';
}

async function loadLibraries() {
  const data = await op('library/list', {});
  state.libraries = data.libraries;
  const list = $('library-list');
  list.replaceChildren(
    ...state.libraries.map((lib) =>
      el(
        'li',
        {},
        el(
          'button',
          { type: 'button', 'aria-current': String(state.current && state.current.library_name === lib.library_name), 'data-library': lib.library_name, onclick: () => openLibrary(lib.library_name) },
          el('span', { class: 'name' }, el('span', { text: lib.library_name }), el('span', { class: 'count', text: String(lib.image_count) })),
          el('span', { class: 'meta', text: `${lib.model} · ${lib.mode.replace('_search', '')}` }),
        ),
      ),
    ),
  );
  if (state.libraries.length === 0) list.append(el('li', { class: 'muted', text: 'No libraries yet.' }));
  if (state.current) {
    const fresh = state.libraries.find((l) => l.library_name === state.current.library_name);
    if (fresh) {
      state.current = fresh;
      renderLibraryHead();
    }
  }
}

function renderLibraryHead() {
  const lib = state.current;
  $('library-title').textContent = lib.library_name;
  const facts = [
    el('span', { class: 'pill', text: `${lib.image_count} image${lib.image_count === 1 ? '' : 's'}` }),
    el('span', { class: 'pill', text: `model ${lib.model}` }),
    el('span', { class: 'pill', text: lib.mode }),
    modelReadsText(lib) ? el('span', { class: 'pill good', text: 'text search' }) : null,
    lib.description ? el('span', { class: 'pill', text: lib.description }) : null,
  ];
  $('library-facts').replaceChildren(...facts.filter(Boolean));
  const text = modelReadsText(lib);
  $('query-text').disabled = !text;
  $('text-search-button').disabled = !text;
  $('text-hint').textContent = text
    ? 'The model reads text: describe what you are looking for.'
    : lib.mode !== 'general_search'
      ? `Text search needs a general_search library (this one is ${lib.mode}).`
      : `The model ${lib.model} has no text encoder; search by image instead.`;
}

async function openLibrary(name) {
  state.current = state.libraries.find((l) => l.library_name === name);
  if (!state.current) return;
  for (const b of document.querySelectorAll('#library-list button')) b.setAttribute('aria-current', String(b.dataset.library === name));
  $('empty-state').hidden = true;
  $('library-view').hidden = false;
  $('uploads').replaceChildren();
  $('result-grid').replaceChildren();
  $('search-status').textContent = '';
  renderLibraryHead();
  await loadImages(true);
}

async function createLibrary(event) {
  event.preventDefault();
  const name = $('new-name').value.trim();
  try {
    await op('library/create', { library_name: name, mode: $('new-mode').value, model: $('new-model').value });
    $('new-name').value = '';
    $('new-library').open = false;
    await loadLibraries();
    await openLibrary(name);
    toast(`Library ${name} created.`);
  } catch (e) {
    toast(e.message, true);
  }
}

async function deleteLibrary() {
  const name = state.current.library_name;
  if (!window.confirm(`Delete library ${name} and all its images?`)) return;
  try {
    await op('library/delete', { library_name: name });
    state.current = null;
    $('library-view').hidden = true;
    $('empty-state').hidden = false;
    await loadLibraries();
    toast(`Library ${name} deleted.`);
  } catch (e) {
    toast(e.message, true);
  }
}

// ---- browse ---------------------------------------------------------------------------------------

function imageTile(image, score) {
  const body = el('div', { class: 'body' }, el('div', { class: 'id', title: `${image.image_id} · ${image.image_uri}`, text: image.image_id }));
  if (score !== undefined) {
    const bar = el('span');
    bar.style.width = `${Math.round(score * 100)}%`;
    body.append(el('div', { class: 'score' }, el('span', { class: 'bar' }, bar), el('span', { class: 'value', text: score.toFixed(3) })));
  }
  body.append(tagChips(image.tags));
  return el('div', { class: 'tile', 'data-image-id': image.image_id }, thumbnail(image), body);
}

async function loadImages(fresh) {
  if (fresh) {
    releaseThumbs();
    state.cursor = null;
    $('image-grid').replaceChildren();
  }
  try {
    const body = { library_name: state.current.library_name, limit: PAGE_SIZE };
    if (state.cursor) body.cursor = state.cursor;
    if (state.filter) body.tag_filter = state.filter;
    const data = await op('image/list', body);
    $('image-grid').append(...data.images.map((img) => imageTile(img)));
    state.cursor = data.next_cursor;
    $('load-more').hidden = !state.cursor;
    if (fresh && data.images.length === 0) $('image-grid').append(el('p', { class: 'muted', text: state.filter ? 'No image matches the filter.' : 'No images yet: drop some above.' }));
  } catch (e) {
    toast(e.message, true);
  }
}

function applyFilter() {
  const error = $('filter-error');
  try {
    state.filter = parseFilter($('tag-filter').value);
    error.hidden = true;
  } catch (e) {
    error.textContent = e.message;
    error.hidden = false;
    return;
  }
  if (!state.current) return;
  if (!$('panel-search').hidden) runLastSearch();
  else loadImages(true);
}

// ---- upload ---------------------------------------------------------------------------------------

async function uploadFiles(files) {
  const images = [...files].filter((f) => f.type.startsWith('image/') || /\.(jpe?g|png|bmp|gif|webp|tiff?)$/i.test(f.name));
  if (images.length === 0) return toast('Drop image files (JPEG, PNG, BMP, GIF, WebP).', true);
  let tags;
  try {
    tags = parseTags($('upload-tags').value);
  } catch (e) {
    return toast(e.message, true);
  }
  const library = state.current.library_name;
  const rows = images.map((file) => {
    const progress = el('progress', { max: '1', value: '0' });
    const status = el('span', { class: 'state', text: 'waiting' });
    const row = el('li', { 'data-file': file.name }, el('span', { class: 'file', text: file.name }), progress, status);
    $('uploads').prepend(row);
    return { file, progress, status };
  });
  let ok = 0;
  const queue = [...rows];
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      row.status.textContent = 'uploading';
      try {
        const image_base64 = await fileToBase64(row.file);
        await uploadImage({ library_name: library, image_id: row.file.name, image_uri: row.file.name, image_base64, tags, save_image: true }, (p) => (row.progress.value = p));
        row.progress.value = 1;
        row.status.textContent = 'done';
        row.status.classList.add('done');
        ok++;
      } catch (e) {
        row.status.textContent = 'failed';
        row.status.title = e.message;
        row.status.classList.add('failed');
        toast(`${row.file.name}: ${e.message}`, true);
      }
    }
  };
  await Promise.all(Array.from({ length: UPLOAD_CONCURRENCY }, worker));
  if (ok > 0) toast(`${ok} image${ok === 1 ? '' : 's'} added to ${library}.`);
  if (state.current && state.current.library_name === library) {
    await loadLibraries();
    await loadImages(true);
  }
}

// ---- search ---------------------------------------------------------------------------------------

let lastSearch = null;

async function search(kind, payload) {
  lastSearch = { kind, payload };
  const status = $('search-status');
  const grid = $('result-grid');
  status.textContent = 'Searching…';
  grid.replaceChildren();
  const body = { library_name: state.current.library_name, top_k: Number($('top-k').value), return_frame: false, ...payload };
  if (state.filter) body.tag_filter = state.filter;
  try {
    const started = performance.now();
    const data = await op(kind === 'image' ? 'search/by-image' : 'search/by-text', body);
    const ms = Math.round(performance.now() - started);
    status.textContent = data.results.length === 0 ? 'No matches.' : `${data.results.length} result${data.results.length === 1 ? '' : 's'} in ${ms} ms`;
    grid.append(...data.results.map((r) => imageTile({ ...r, saved_image: undefined }, r.score)));
  } catch (e) {
    status.textContent = '';
    toast(e.message, true);
  }
}

function runLastSearch() {
  if (lastSearch) search(lastSearch.kind, lastSearch.payload);
}

async function searchByFile(file) {
  if (!file) return;
  const preview = $('query-preview');
  if (preview.src) URL.revokeObjectURL(preview.src);
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  $('query-hint').hidden = true;
  await search('image', { image_base64: await fileToBase64(file) });
}

// ---- wiring ---------------------------------------------------------------------------------------

function dropzone(zone, input, onFiles) {
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (e.dataTransfer && e.dataTransfer.files.length > 0) onFiles(e.dataTransfer.files);
  });
  zone.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && input.click());
  input.addEventListener('change', () => {
    if (input.files.length > 0) onFiles(input.files);
    input.value = '';
  });
}

function selectTab(name) {
  $('tab-browse').setAttribute('aria-selected', String(name === 'browse'));
  $('tab-search').setAttribute('aria-selected', String(name === 'search'));
  $('panel-browse').hidden = name !== 'browse';
  $('panel-search').hidden = name !== 'search';
}

document.addEventListener('DOMContentLoaded', () => {
  $('sign-in-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const error = $('sign-in-error');
    error.hidden = true;
    try {
      await signIn($('api-key').value.trim());
    } catch (err) {
      error.textContent = err.status === 401 ? 'That key is not valid for this gateway.' : err.message;
      error.hidden = false;
    }
  });
  $('sign-out').addEventListener('click', signOut);
  $('switch-key').addEventListener('click', () => showKeyForm(true));
  $('switch-cancel').addEventListener('click', () => {
    $('sign-in').hidden = true;
    $('app').hidden = false;
  });
  $('refresh-libraries').addEventListener('click', () => loadLibraries().catch((e) => toast(e.message, true)));
  $('new-library-form').addEventListener('submit', createLibrary);
  $('delete-library').addEventListener('click', deleteLibrary);
  $('apply-filter').addEventListener('click', applyFilter);
  $('tag-filter').addEventListener('keydown', (e) => e.key === 'Enter' && applyFilter());
  $('clear-filter').addEventListener('click', () => {
    $('tag-filter').value = '';
    applyFilter();
  });
  $('tab-browse').addEventListener('click', () => selectTab('browse'));
  $('tab-search').addEventListener('click', () => selectTab('search'));
  $('load-more').addEventListener('click', () => loadImages(false));
  $('choose-files').addEventListener('click', () => $('upload-input').click());
  $('choose-query').addEventListener('click', () => $('query-input').click());
  dropzone($('upload-zone'), $('upload-input'), uploadFiles);
  dropzone($('query-zone'), $('query-input'), (files) => searchByFile(files[0]));
  $('text-search-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('query-text').value.trim();
    if (text) search('text', { query_text: text });
  });
  // Sign in silently with this tab's key, or none: open mode takes an empty key as the default tenant, so
  // the page opens straight away there; verify mode answers 401 and the sign-in form appears.
  signIn(state.key).catch(() => signOut());
});
