// The API page's script: renders the OpenAPI document (served apart, so the page needs
// no inline script) — operations grouped by tag, each with its parameters, its request
// body and answers as tables of fields (references followed, linked to the schemas below)
// and their examples; `code` in descriptions shown as code.
const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const prose = s => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>');
const refName = ref => ref.split('/').pop();
const anchor = name => `schema-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

fetch('/api-docs/openapi.json').then(r => r.json()).then(doc => {
  const schemas = doc.components?.schemas ?? {};
  const resolve = s => (s && s.$ref ? schemas[refName(s.$ref)] ?? {} : s ?? {});

  /** A schema's type in a few words, references linked. */
  const typeOf = s => {
    if (!s) return '';
    if (s.$ref) return `<a href="#${anchor(refName(s.$ref))}">${esc(refName(s.$ref))}</a>`;
    for (const k of ['oneOf', 'anyOf']) if (s[k]) return s[k].map(typeOf).join(' or ');
    if (s.allOf) return s.allOf.map(typeOf).join(' and ');
    const type = Array.isArray(s.type) ? s.type.filter(t => t !== 'null').join(' | ') + (s.type.includes('null') ? ' (or null)' : '') : s.type ?? 'any';
    if (type.startsWith('array')) return `array of ${typeOf(s.items) || 'any'}`;
    const details = [s.format, s.enum && `one of ${s.enum.map(v => `<code>${esc(v)}</code>`).join(', ')}`, s.pattern && `matching <code>${esc(s.pattern)}</code>`]
      .filter(Boolean).join('; ');
    return esc(type) + (details ? ` (${details})` : '');
  };

  /** An object schema's fields as a table; other schemas as their type. */
  const fields = s => {
    const own = resolve(s);
    const props = own.properties;
    if (!props) return `<p>${typeOf(s)}</p>`;
    const required = new Set(own.required ?? []);
    const rows = Object.entries(props).map(([name, p]) =>
      `<tr><td><code>${esc(name)}</code>${required.has(name) ? ' <span class="req">required</span>' : ''}</td><td>${typeOf(p)}</td><td>${prose(resolve(p).description ?? p.description)}</td></tr>`);
    return `${s.$ref ? `<p>${typeOf(s)}</p>` : ''}<table><thead><tr><th>Field</th><th>Type</th><th>Description</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
  };

  /** The examples a media type (or its schema) gives. */
  const examples = media => {
    const found = [];
    if (media.example !== undefined) found.push(media.example);
    for (const e of Object.values(media.examples ?? {})) if (e.value !== undefined) found.push(e.value);
    const own = resolve(media.schema);
    if (!found.length && own.example !== undefined) found.push(own.example);
    if (!found.length && Array.isArray(own.examples)) found.push(...own.examples.slice(0, 1));
    return found.map(v => `<h5>Example</h5><pre>${esc(typeof v === 'string' ? v : JSON.stringify(v, null, 2))}</pre>`).join('');
  };

  const content = c => Object.entries(c ?? {}).map(([type, media]) =>
    `<p class="ct">${esc(type)}</p>${media.schema ? fields(media.schema) : ''}${examples(media)}`).join('');

  const operation = (path, method, op) => {
    const params = (op.parameters ?? []).map(p => {
      const own = resolve(p.schema);
      return `<tr><td><code>${esc(p.name)}</code>${p.required ? ' <span class="req">required</span>' : ''}</td><td>${esc(p.in)}</td><td>${typeOf(p.schema)}</td><td>${prose(p.description ?? own.description)}</td></tr>`;
    }).join('');
    const auth = (op.security ?? []).flatMap(Object.keys);
    const responses = Object.entries(op.responses ?? {}).map(([code, r]) =>
      `<details class="response"><summary><code>${esc(code)}</code> ${prose(r.description)}</summary>${content(r.content)}</details>`).join('');
    return `<details class="op" data-testid="op" id="${esc(op.operationId ?? '')}"><summary><span class="m ${method}">${esc(method)}</span> <code>${esc(path)}</code> — ${prose(op.summary ?? '')}</summary>
      ${op.description ? `<p>${prose(op.description)}</p>` : ''}
      ${auth.length ? `<p>Needs ${auth.map(a => a === 'bearer' ? '<code>Authorization: Bearer &lt;API key&gt;</code>' : 'the portal session (and <code>X-CSRF-Token</code> on changes)').join(', or ')}.</p>` : '<p>Open: no key needed.</p>'}
      ${params ? `<h4>Parameters</h4><table><thead><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr></thead><tbody>${params}</tbody></table>` : ''}
      ${op.requestBody ? `<h4>Request body</h4>${content(op.requestBody.content)}` : ''}
      <h4>Answers</h4>${responses}</details>`;
  };

  const byTag = new Map((doc.tags ?? []).map(t => [t.name, { tag: t, ops: [] }]));
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (typeof op !== 'object' || !op.responses) continue;
      const tag = op.tags?.[0] ?? 'other';
      if (!byTag.has(tag)) byTag.set(tag, { tag: { name: tag }, ops: [] });
      byTag.get(tag).ops.push(operation(path, method, op));
    }
  }
  const out = [`<nav class="toc"><strong>Sections:</strong> ${[...byTag.values()].filter(g => g.ops.length).map(g => `<a href="#tag-${esc(g.tag.name)}">${esc(g.tag.name)}</a>`).join(' · ')} · <a href="#schemas">schemas</a></nav>`];
  for (const { tag, ops } of byTag.values()) {
    if (!ops.length) continue;
    out.push(`<section id="tag-${esc(tag.name)}"><h2>${esc(tag.name)}</h2>${tag.description ? `<p>${prose(tag.description)}</p>` : ''}${ops.join('')}</section>`);
  }
  out.push(`<section id="schemas"><h2>Schemas</h2>${Object.keys(schemas).sort().map(name =>
    `<details class="schema" id="${anchor(name)}"><summary><code>${esc(name)}</code></summary>${prose(schemas[name].description ?? '')}${fields(schemas[name])}${examples({ schema: schemas[name] })}</details>`).join('')}</section>`);
  document.querySelector('.sub').insertAdjacentHTML('beforebegin', `<p>${prose(doc.info.description)}</p>`);
  document.getElementById('ops').innerHTML = out.join('');
  // A link to a schema opens it.
  const open = () => document.getElementById(location.hash.slice(1))?.setAttribute('open', '');
  window.addEventListener('hashchange', open);
  open();
}).catch(e => { document.getElementById('ops').textContent = 'Could not load the OpenAPI document: ' + e; });
