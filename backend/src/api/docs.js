// The API page's script: renders the OpenAPI document (served apart, so the page needs
// no inline script).
const esc = s => String(s ?? '').replace(/[&<>"]/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
fetch('/api-docs/openapi.json').then(r => r.json()).then(doc => {
  const out = [];
  document.querySelector('.sub').insertAdjacentHTML('beforebegin', `<p>${esc(doc.info.description)}</p>`);
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const responses = Object.entries(op.responses || {}).map(([code, r]) => `<li><code>${esc(code)}</code> ${esc(r.description)}</li>`).join('');
      const body = op.requestBody ? `<h4>Request body</h4><pre>${esc(JSON.stringify(op.requestBody.content, null, 2))}</pre>` : '';
      const auth = op.security ? '<p>Requires <code>Authorization: Bearer &lt;API key&gt;</code>.</p>' : '';
      out.push(`<details data-testid="op"><summary><span class="m ${method}">${esc(method)}</span> <code>${esc(path)}</code> — ${esc(op.summary || '')}</summary>
        <p>${esc(op.description || '')}</p>${auth}${body}<h4>Responses</h4><ul>${responses}</ul></details>`);
    }
  }
  out.push(`<details><summary>Schemas</summary><pre>${esc(JSON.stringify(doc.components.schemas, null, 2))}</pre></details>`);
  document.getElementById('ops').innerHTML = out.join('');
}).catch(e => { document.getElementById('ops').textContent = 'Could not load the OpenAPI document: ' + e; });
