'use strict';
// The status page: fetches /status/data and redraws. Plain DOM (textContent only: names come from configuration
// and URLs, so nothing is parsed as HTML), an inline SVG chart, no libraries, no build step.
(() => {
  const SVG_NS = 'http://www.w3.org/2000/svg';
  const STATE_LABELS = { closed: 'closed', open: 'open', half_open: 'half-open', isolated: 'isolated' };
  let refreshMs = 2000;
  let lastSuccess = null;

  function el(tag, props, ...children) {
    const node = document.createElement(tag);
    applyProps(node, props);
    node.append(...children.filter((c) => c !== null && c !== undefined));
    return node;
  }

  function svgEl(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'text') node.textContent = value; else node.setAttribute(key, String(value));
    }
    node.append(...children);
    return node;
  }

  function applyProps(node, props) {
    for (const [key, value] of Object.entries(props || {})) {
      if (key === 'text') node.textContent = value;
      else if (key === 'className') node.className = value;
      else if (key === 'data') Object.assign(node.dataset, value);
      else node.setAttribute(key, String(value));
    }
  }

  const pad = (n) => String(n).padStart(2, '0');
  function clock(iso) {
    const d = new Date(iso);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  }

  function duration(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `${s} s`;
    const m = Math.floor(s / 60);
    return s % 60 === 0 ? `${m} min` : `${m} min ${s % 60} s`;
  }

  const number = (n) => Number(n).toLocaleString('en-US');
  const usd = (n) => '$' + Number(n).toLocaleString('en-US', { minimumFractionDigits: 4, maximumFractionDigits: 6 });
  const stateBadge = (state) => el('span', { className: `badge ${state}`, text: STATE_LABELS[state] || state });

  function definitionList(pairs) {
    const dl = el('dl');
    for (const [term, value] of pairs) {
      if (value === null || value === undefined) continue;
      dl.append(el('dt', { text: term }), el('dd', { text: String(value) }));
    }
    return dl;
  }

  function renderOverall(data) {
    const pool = data.pool ? data.pool.status : 'Unknown';
    const open = data.breakers.filter((b) => b.state === 'open' || b.state === 'isolated').map((b) => b.name);
    const halfOpen = data.breakers.filter((b) => b.state === 'half_open').map((b) => b.name);
    // Every problem at once: an open provider circuit must not hide a database outage, nor the other way round.
    const problems = [];
    if (open.length > 0) problems.push(`${open.length} circuit${open.length === 1 ? '' : 's'} open: ${open.join(', ')}`);
    if (pool === 'Critical') problems.push('database pool critical');
    const warnings = [];
    if (halfOpen.length > 0) warnings.push(`probing: ${halfOpen.join(', ')}`);
    if (pool === 'Degraded') warnings.push('database pool degraded');
    const level = problems.length > 0 ? 'bad' : warnings.length > 0 ? 'warn' : 'ok';
    const badge = document.getElementById('overall');
    badge.className = `badge ${level}`;
    badge.textContent = problems.concat(warnings).join(' · ') || 'All systems normal';
  }

  function renderBreakers(data) {
    const now = Date.parse(data.generatedAt);
    const cards = data.breakers.map((b) => {
      const pairs = [
        // Absent while open: the count restarts when the circuit closes, so a number there would mislead.
        [b.failuresLabel || 'failures', b.failures == null ? null : number(b.failures)],
        ['rejected calls', number(b.rejections)],
        ['transitions', number(b.transitions)],
      ];
      if (b.openedAt) pairs.push(['opened', `${clock(b.openedAt)} (${duration(now - Date.parse(b.openedAt))} ago)`]);
      if (b.nextProbeAt) {
        // The breaker turns half-open lazily: past this time, the next call through it is the probe.
        const wait = Date.parse(b.nextProbeAt) - now;
        pairs.push(['next probe', wait > 0 ? `in ${duration(wait)}` : 'due: the next call is the probe']);
      }
      const history = b.history.length === 0
        ? el('div', { className: 'empty', text: 'no transitions since start-up' })
        : el('ol', { className: 'history' }, ...b.history.slice().reverse().map((t) => el('li', {},
          el('time', { datetime: t.at, text: clock(t.at) }),
          stateBadge(t.from), el('span', { className: 'arrow', text: '→' }), stateBadge(t.to),
          el('span', { className: 'muted', text: t.reason }))));
      return el('article', { className: `card ${b.state}`, data: { breaker: b.name, state: b.state } },
        el('h3', {}, el('span', { text: b.name }), stateBadge(b.state)),
        definitionList(pairs),
        history);
    });
    const container = document.getElementById('breakers');
    if (cards.length === 0) container.replaceChildren(el('div', { className: 'empty', text: 'No circuit breakers yet: they appear with the first call to each dependency.' }));
    else container.replaceChildren(...cards);
  }

  function poolChart(samples) {
    const width = 640, height = 180, left = 38, right = 46, top = 10, bottom = 22;
    const plotW = width - left - right, plotH = height - top - bottom;
    const chart = svgEl('svg', { class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Pool utilization and acquire wait over time' });
    if (samples.length < 2) {
      chart.append(svgEl('text', { x: left, y: top + plotH / 2, class: 'axis', text: 'collecting samples…' }));
      return chart;
    }
    const t0 = Date.parse(samples[0].at), t1 = Date.parse(samples[samples.length - 1].at);
    const span = Math.max(1, t1 - t0);
    const x = (s) => left + ((Date.parse(s.at) - t0) / span) * plotW;
    const yUtil = (u) => top + plotH - Math.min(1, Math.max(0, u)) * plotH;
    const maxWait = Math.max(10, ...samples.map((s) => s.p99AcquireWaitMs || 0));
    const yWait = (ms) => top + plotH - (Math.min(ms, maxWait) / maxWait) * plotH;
    const maxWaiters = Math.max(1, ...samples.map((s) => s.waiters));

    for (const fraction of [0, 0.5, 1]) {
      const y = yUtil(fraction);
      chart.append(svgEl('line', { x1: left, x2: left + plotW, y1: y, y2: y, class: 'grid' }));
      chart.append(svgEl('text', { x: left - 4, y: y + 3, 'text-anchor': 'end', class: 'axis', text: `${fraction * 100}%` }));
    }
    chart.append(svgEl('text', { x: left + plotW + 4, y: top + 8, class: 'axis', text: `${Math.round(maxWait)} ms` }));
    chart.append(svgEl('text', { x: left + plotW + 4, y: top + plotH, class: 'axis', text: '0 ms' }));
    chart.append(svgEl('text', { x: left, y: height - 6, class: 'axis', text: `−${duration(span)}` }));
    chart.append(svgEl('text', { x: left + plotW, y: height - 6, 'text-anchor': 'end', class: 'axis', text: 'now' }));

    const barWidth = Math.max(1, plotW / samples.length - 1);
    for (const s of samples) {
      if (s.waiters <= 0) continue;
      const h = (s.waiters / maxWaiters) * plotH * 0.4;
      chart.append(svgEl('rect', { x: x(s) - barWidth / 2, y: top + plotH - h, width: barWidth, height: h, class: 'waiters' },
        svgEl('title', { text: `${clock(s.at)}: ${s.waiters} waiting` })));
    }
    const utilPoints = samples.map((s) => `${x(s).toFixed(1)},${yUtil(s.utilization).toFixed(1)}`);
    chart.append(svgEl('polygon', { class: 'util-area', points: `${left},${top + plotH} ${utilPoints.join(' ')} ${left + plotW},${top + plotH}` }));
    chart.append(svgEl('polyline', { class: 'util', points: utilPoints.join(' ') }));
    const waits = samples.filter((s) => s.p99AcquireWaitMs !== null && s.p99AcquireWaitMs !== undefined);
    if (waits.length > 1) {
      chart.append(svgEl('polyline', { class: 'wait', points: waits.map((s) => `${x(s).toFixed(1)},${yWait(s.p99AcquireWaitMs).toFixed(1)}`).join(' ') }));
    }
    return chart;
  }

  function renderPool(data) {
    const container = document.getElementById('pool');
    const p = data.pool;
    if (!p) {
      container.replaceChildren(el('div', { className: 'empty', text: 'No pool monitor registered.' }));
      return;
    }
    const summary = el('div', { className: 'card', data: { poolStatus: p.status } },
      el('h3', {}, el('span', { text: p.name }), el('span', { className: `badge ${p.status}`, text: p.status })),
      el('p', { className: 'muted', text: p.reason || '' }),
      definitionList([
        ['busy / idle / max', `${p.busy} / ${p.idle} / ${p.maxSize}`],
        ['waiting for a connection', number(p.waiters)],
        ['acquire timeouts', number(p.acquireTimeouts)],
        // == null: the service omits null members, so a failed ping arrives as undefined.
        ['ping', p.pingMs == null ? 'failed or not yet' : `${p.pingMs.toFixed(1)} ms`],
        ['p99 acquire wait', p.p99AcquireWaitMs == null ? '—' : `${p.p99AcquireWaitMs.toFixed(1)} ms`],
        ['checked', p.checkedAt ? clock(p.checkedAt) : 'not yet'],
      ]));
    const chartCard = el('div', { className: 'card' },
      el('h3', {}, el('span', { text: 'Utilization and acquire wait' })),
      poolChart(p.samples),
      el('div', { className: 'legend' },
        el('span', { className: 'l-util', text: 'busy share of the pool' }),
        el('span', { className: 'l-wait', text: 'p99 acquire wait (right axis)' }),
        el('span', { className: 'l-waiters', text: 'callers waiting' })));
    container.replaceChildren(el('div', { className: 'pool-grid' }, summary, chartCard));
  }

  function renderCounters(data) {
    const container = document.getElementById('counters');
    const parts = [];
    if (data.databaseRetries) {
      const r = data.databaseRetries;
      parts.push(el('div', { className: 'card' },
        el('h3', {}, el('span', { text: 'Database calls' })),
        definitionList([
          ['calls', number(r.calls)],
          ['first-try successes', number(r.firstTrySuccesses)],
          ['successes after a retry', number(r.retriedSuccesses)],
          ['gave up after retries', number(r.exhausted)],
          ['retries', number(r.totalRetries)],
          ['success rate', r.calls === 0 ? '—' : `${(r.successRate * 100).toFixed(1)}%`],
        ])));
    }
    if (data.counters.length === 0) {
      parts.push(el('div', { className: 'empty', text: 'No retries, fallbacks, rejections or timeouts yet.' }));
    } else {
      const rows = data.counters.map((c) => el('tr', { data: { metric: c.metric, name: c.name } },
        el('td', { text: c.metric }), el('td', { text: c.name }), el('td', { className: 'muted', text: c.detail }),
        el('td', { className: 'num', text: number(c.count) })));
      parts.push(el('table', {},
        el('thead', {}, el('tr', {}, el('th', { text: 'what' }), el('th', { text: 'dependency' }), el('th', { text: 'detail' }), el('th', { className: 'num', text: 'count' }))),
        el('tbody', {}, ...rows)));
    }
    container.replaceChildren(...parts);
  }

  // Each refresh reads the limits again, so under a provider slowdown the limit is seen shrinking and the queue filling.
  function renderLimits(data) {
    const container = document.getElementById('limits');
    if (data.limits.length === 0) {
      container.replaceChildren(el('div', { className: 'empty', text: 'No concurrency limits yet: they appear with the first call to each dependency.' }));
      return;
    }
    const rows = data.limits.map((l) => {
      const bar = el('div', { className: 'bar' });
      bar.style.width = `${Math.min(100, (l.inFlight / Math.max(1, l.limit)) * 100)}%`;
      return el('tr', { data: { limit: l.name } },
        el('td', { text: l.name }), el('td', { className: 'num', text: number(l.limit) }),
        el('td', { className: 'num', text: number(l.inFlight) }), el('td', { className: 'num', text: number(l.queued) }),
        el('td', { className: 'num', text: `${l.recentLatencyMs} ms` }),
        el('td', { className: 'num', text: l.throttlingPercent === null ? '—' : `${l.throttlingPercent}%` }),
        el('td', {}, bar));
    });
    container.replaceChildren(el('table', {},
      el('thead', {}, el('tr', {}, el('th', { text: 'dependency' }), el('th', { className: 'num', text: 'limit' }),
        el('th', { className: 'num', text: 'in flight' }), el('th', { className: 'num', text: 'queued' }),
        el('th', { className: 'num', text: 'latency' }), el('th', { className: 'num', text: 'throttled' }), el('th', { text: '' }))),
      el('tbody', {}, ...rows)));
  }

  // Clustered (Cluster:Enabled): the live instances and the state they share; hidden when the instance runs alone.
  function renderCluster(data) {
    const section = document.getElementById('cluster-section');
    const c = data.cluster;
    if (!c) {
      section.hidden = true;
      return;
    }
    section.hidden = false;
    const now = Date.parse(data.generatedAt);
    const parts = [el('p', { data: { instance: c.instanceId, connected: String(c.connected) },
      text: `This instance: ${c.instanceId} · ${c.connected ? 'coordinating through the database' : 'database unreachable: every shared breaker and limit runs on local state'}`
        + ` · ${number(c.liveInstances)} live · ${number(c.storeQueries)} store queries and ${number(c.notifications)} notifications so far` })];
    if (c.storeError) parts.push(el('div', { className: 'notice bad', text: `Shared state not readable: ${c.storeError}.` }));
    parts.push(el('h3', { text: 'Instances' }));
    parts.push(c.instances.length === 0
      ? el('div', { className: 'empty', text: 'No live instance read from the store.' })
      : el('table', {},
        el('thead', {}, el('tr', {}, el('th', { text: 'instance' }), el('th', { text: 'last heartbeat' }))),
        el('tbody', {}, ...c.instances.map((i) => el('tr', { data: { clusterInstance: i.id } },
          el('td', { text: i.this ? `${i.id} (this one)` : i.id }),
          el('td', { text: `${clock(i.lastHeartbeat)} (${duration(now - Date.parse(i.lastHeartbeat))} ago)` }))))));
    parts.push(el('h3', { text: 'Cluster-wide breakers' }));
    parts.push(c.breakers.length === 0
      ? el('div', { className: 'empty', text: 'No shared breaker yet: a provider\'s appears with the first call to it.' })
      : el('table', {},
        el('thead', {}, el('tr', {}, el('th', { text: 'breaker' }), el('th', { text: 'here' }), el('th', { text: 'cluster' }),
          el('th', { className: 'num', text: 'votes' }), el('th', { className: 'num', text: 'openings' }), el('th', { text: 'open until' }))),
        el('tbody', {}, ...c.breakers.map((b) => el('tr', { data: { sharedBreaker: b.name, state: b.clusterState || 'unknown' } },
          el('td', { text: b.name }), el('td', {}, stateBadge(b.localState)),
          el('td', {}, b.clusterState ? stateBadge(b.clusterState) : el('span', { className: 'muted', text: 'unknown' })),
          el('td', { className: 'num', text: number(b.votes) }), el('td', { className: 'num', text: number(b.epoch) }),
          el('td', { text: b.clusterState === 'open' && b.openUntil ? clock(b.openUntil) : '—' }))))));
    parts.push(el('h3', { text: 'Per-client limits' }));
    parts.push(c.limits.length === 0
      ? el('div', { className: 'empty', text: 'No client seen yet: a client\'s limit appears with its first API call.' })
      : el('table', {},
        el('thead', {}, el('tr', {}, el('th', { text: 'client' }), el('th', { className: 'num', text: 'limit' }),
          el('th', { className: 'num', text: 'leased this window' }), el('th', { className: 'num', text: 'left here' }),
          el('th', { className: 'num', text: 'accepted here' }), el('th', { className: 'num', text: 'refused here' }))),
        el('tbody', {}, ...c.limits.map((l) => el('tr', { data: { sharedLimit: l.key } },
          el('td', { text: l.key }), el('td', { className: 'num', text: `${number(l.limit)} / ${l.windowSeconds} s` }),
          el('td', { className: 'num', text: l.leasedInWindow == null ? '—' : number(l.leasedInWindow) }),
          el('td', { className: 'num', text: number(l.localAvailable) }),
          el('td', { className: 'num', text: number(l.granted) }), el('td', { className: 'num', text: number(l.refused) }))))));
    parts.push(el('h3', { text: 'Cluster-wide retry budgets' }));
    parts.push(!c.retryBudgets || c.retryBudgets.length === 0
      ? el('div', { className: 'empty', text: 'No shared retry budget yet: a provider\'s appears with its client.' })
      : el('table', {},
        el('thead', {}, el('tr', {}, el('th', { text: 'client' }), el('th', { className: 'num', text: 'tokens here' }),
          el('th', { className: 'num', text: 'tokens in the cluster\'s bucket' }), el('th', { className: 'num', text: 'retries refused here' }))),
        el('tbody', {}, ...c.retryBudgets.map((b) => el('tr', { data: { sharedBudget: b.client } },
          el('td', { text: b.client }), el('td', { className: 'num', text: number(b.localTokens) }),
          el('td', { className: 'num', text: b.clusterTokens == null ? '—' : number(b.clusterTokens) }),
          el('td', { className: 'num', text: number(b.refused) }))))));
    document.getElementById('cluster').replaceChildren(...parts);
  }

  function renderCosts(data) {
    const c = data.costs;
    const container = document.getElementById('costs');
    const parts = [];
    if (c.errorId) parts.push(el('div', { className: 'notice bad', text: `${c.message} (${c.errorId})` }));
    else if (c.isStale) parts.push(el('div', { className: 'notice warn', text: `${c.message} Read at ${clock(c.readAt)}.` }));
    // Always the age: the figures are computed at most once per cache period, so "now" would be a guess.
    if (c.readAt) {
      const age = Date.parse(data.generatedAt) - Date.parse(c.readAt);
      parts.push(el('p', { className: 'muted', data: { costsAge: String(Math.round(age / 1000)) }, text: `computed ${clock(c.readAt)} (${duration(age)} ago)` }));
    }
    if (c.providers.length === 0 && !c.errorId) {
      parts.push(el('div', { className: 'empty', text: 'No provider calls in the last 30 days.' }));
    } else if (c.providers.length > 0) {
      const max = Math.max(...c.providers.map((p) => Number(p.costUsd)), 0.000001);
      const rows = c.providers.map((p) => {
        const bar = el('div', { className: 'bar' });
        bar.style.width = `${(Number(p.costUsd) / max) * 100}%`;
        return el('tr', { data: { provider: p.provider } },
          el('td', { text: p.provider }), el('td', { className: 'num', text: number(p.calls) }),
          el('td', { className: 'num', text: number(p.tokens) }), el('td', { className: 'num', text: usd(p.costUsd) }),
          el('td', {}, bar));
      });
      parts.push(el('table', {},
        el('thead', {}, el('tr', {}, el('th', { text: 'provider' }), el('th', { className: 'num', text: 'calls' }),
          el('th', { className: 'num', text: 'tokens' }), el('th', { className: 'num', text: 'cost' }), el('th', { text: '' }))),
        el('tbody', {}, ...rows)));
    }
    container.replaceChildren(...parts);
  }

  function render(data) {
    renderOverall(data);
    renderBreakers(data);
    renderCluster(data);
    renderLimits(data);
    renderPool(data);
    renderCounters(data);
    renderCosts(data);
  }

  async function refresh() {
    const updated = document.getElementById('updated');
    let data;
    try {
      const response = await fetch('/status/data', { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`the service answered ${response.status}`);
      data = await response.json();
    } catch (error) {
      // Shown on the page rather than thrown: an unreachable service is a state to display, not a script error.
      updated.textContent = lastSuccess === null
        ? `cannot reach the service (${error.message}); retrying`
        : `connection lost ${duration(Date.now() - lastSuccess)} ago (${error.message}); showing the last data`;
      updated.className = 'badge bad';
      setTimeout(refresh, refreshMs);
      return;
    }
    try {
      render(data);
      refreshMs = data.refreshMs || refreshMs;
      lastSuccess = Date.now();
      updated.textContent = `updated ${clock(data.generatedAt)} · every ${duration(refreshMs)}`;
      updated.className = 'muted';
      document.body.dataset.loaded = 'true';
    } catch (error) {
      // A drawing bug is not a lost connection: say which it is, and keep refreshing.
      updated.textContent = `could not draw the data (${error.message}); retrying`;
      updated.className = 'badge bad';
      console.error(error);
    } finally {
      setTimeout(refresh, refreshMs);
    }
  }

  refresh();
})();
