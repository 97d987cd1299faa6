// The dashboard: polls the node's JSON API and renders it. Every value goes
// into the page through textContent, never as markup.
const $ = (id) => document.getElementById(id)

function cell(row, text, cls) {
  const td = document.createElement('td')
  td.textContent = String(text ?? '')
  if (cls) td.className = cls
  row.appendChild(td)
}

function showError(message) {
  $('error').textContent = message || ''
}

async function api(path, body) {
  const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const data = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(`${data.error ?? res.status}: ${data.message ?? ''}`)
  return data
}

async function loadProducts() {
  const { products, warehouses } = await api('/products')
  for (const p of products) {
    const o = document.createElement('option')
    o.value = p.sku
    o.textContent = `${p.name} ($${(p.priceCents / 100).toFixed(2)})`
    $('sku').appendChild(o)
  }
  for (const w of warehouses) {
    const o = document.createElement('option')
    o.value = w
    o.textContent = w
    $('warehouse').appendChild(o)
  }
}

async function refresh() {
  try {
    const health = await api('/healthz')
    $('node').textContent = `node ${health.node}`
    $('members').textContent = `up: ${health.up.join(', ')} (${health.status})`
    const { warehouses } = await api('/stock')
    const body = $('stock').tBodies[0]
    body.replaceChildren()
    for (const [w, view] of Object.entries(warehouses)) {
      for (const [sku, c] of Object.entries(view.skus)) {
        const row = body.insertRow()
        cell(row, w); cell(row, sku); cell(row, c.available); cell(row, c.reserved); cell(row, c.shipped); cell(row, `${c.initial} + ${c.restocked}`)
      }
    }
    const restock = await api('/restock')
    const leader = restock.leader ? `${restock.leader.value} (token ${restock.leader.token})` : 'nobody yet'
    $('restock').textContent = `restock job leader: ${leader}; runs every ${restock.everyMs / 1000} s while leading`
    $('mode').textContent = `mode ${(await api('/payment/mode')).mode}`
    const { orders } = await api('/orders')
    const ob = $('orders').tBodies[0]
    ob.replaceChildren()
    for (const o of orders) {
      const row = ob.insertRow()
      cell(row, o.id)
      cell(row, `${o.input.qty} × ${o.input.sku} from ${o.input.warehouse}`)
      cell(row, o.state, o.state)
      cell(row, Object.entries(o.steps).map(([n, s]) => `${n}: ${s.status}${s.compensation ? ` / undo ${s.compensation}` : ''}`).join(', '))
      cell(row, o.cause ? `${o.cause.step}: ${o.cause.error?.message ?? ''}` : '')
    }
    showError('')
  } catch (err) {
    showError(`refresh failed: ${err.message}`)
  }
}

$('order').addEventListener('submit', async (e) => {
  e.preventDefault()
  const f = new FormData(e.target)
  try {
    await api('/orders', { sku: f.get('sku'), qty: Number(f.get('qty')), warehouse: f.get('warehouse') })
    await refresh()
  } catch (err) {
    showError(err.message)
  }
})
for (const b of document.querySelectorAll('#modes button')) {
  b.addEventListener('click', async () => {
    try {
      await api('/payment/mode', { mode: b.dataset.mode })
      await refresh()
    } catch (err) {
      showError(err.message)
    }
  })
}

await loadProducts().catch((err) => showError(err.message))
await refresh()
setInterval(refresh, 1500)
