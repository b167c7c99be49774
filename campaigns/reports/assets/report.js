// The report page: draws the chart and keeps every number current from the
// campaign's server-sent-event stream (one shared poller on the server).
(function () {
  "use strict";
  var root = document.getElementById("report");
  // The report comes as a JSON data block, not an inline script: the
  // content security policy allows no inline script.
  var report = JSON.parse(document.getElementById("report-data").textContent);
  var chart = null;

  // fmt shows v as the page does; money carries its currency (cur).
  function fmt(v, kind, cur) {
    if (kind === "pct") return (100 * v).toFixed(1) + "%";
    if (kind === "money") return (cur ? cur + " " : "") + Number(v).toFixed(2);
    return String(v);
  }

  // otherRevenue mirrors reports.OtherRevenue: the revenue in currencies
  // other than the reporting one, shown apart and never added to it.
  function otherRevenue(m) {
    var by = m.revenue_by_currency || {};
    return Object.keys(by).filter(function (c) { return c !== m.currency && by[c] !== 0; }).sort().map(function (c) {
      return (c || "?") + " " + Number(by[c]).toFixed(2);
    }).join("; ");
  }

  // progressText mirrors the page's "progress" template (reports.View):
  // the rate and ETA only while running, "left" only while the campaign
  // can still send its queue, follow-ups once it is finished.
  function progressText(r) {
    var p = r.progress, st = r.status, out = p.sent + " sent of " + p.total;
    var open = st === "running" || st === "paused" || st === "scheduled";
    if (open && p.remaining > 0) out += " · " + p.remaining + " left";
    if (st === "finished" && p.remaining > 0) out += " · " + p.remaining + " follow-ups scheduled";
    if (p.bounced) out += " · " + p.bounced + " bounced";
    if (p.failed) out += " · " + p.failed + " failed";
    if (p.skipped) out += " · " + p.skipped + " skipped";
    if (p.suppressed) out += " · " + p.suppressed + " suppressed (no delivery)";
    if (st === "running") out += " · " + p.rate.toFixed(1) + " messages/s";
    if (st === "running" && p.remaining > 0 && p.estimated_finish) {
      out += " · done about " + new Date(p.estimated_finish).toISOString().slice(11, 19) + " UTC";
    }
    return out;
  }

  function partialText(p) {
    return new Date(p.at).toISOString().slice(11, 16) + " so far (interval not over): " + p.sends + " sends, " +
      p.opens + " opens, " + p.clicks + " clicks, " + p.conversions + " conversions";
  }

  function termValue(metric, v) {
    if (/(_rate|^ctr|^ctor|_ctr|_ctor)$/.test(metric) || metric === "ctr" || metric === "ctor") return (Math.round(v * 10000) / 100) + "%";
    if (metric === "revenue" || metric === "revenue_per_recipient") return Number(v).toFixed(2);
    return String(v);
  }

  function text(el, s) { if (el.textContent !== s) el.textContent = s; }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { e.append(c); });
    return e;
  }

  function bar(fraction) {
    var inner = el("span", { style: "width: " + Math.max(0, Math.min(100, 100 * fraction)).toFixed(1) + "%" });
    return el("span", { "class": "bar" }, [inner]);
  }

  // series leaves out the last point when it is a partial interval (it
  // would look like a drop to nearly 0); the page shows it as text.
  function series(r) {
    var t = (r.timeline || []).filter(function (p) { return !p.partial; });
    return [
      t.map(function (p) { return Date.parse(p.at) / 1000; }),
      t.map(function (p) { return p.opens; }),
      t.map(function (p) { return p.clicks; }),
      t.map(function (p) { return p.conversions; })
    ];
  }

  function drawChart(r) {
    var box = document.getElementById("chart");
    if (!window.uPlot) return;
    if (!chart) {
      chart = new uPlot({
        width: Math.max(320, box.clientWidth), height: 260,
        series: [{}, { label: "opens", stroke: "#3867d6" }, { label: "clicks", stroke: "#e67e22" }, { label: "conversions", stroke: "#1a7f37" }],
        axes: [{}, {}]
      }, series(r), box);
      return;
    }
    chart.setData(series(r));
  }

  // mergeTail folds a stream event's latest timeline points into the
  // timeline the page was rendered with.
  function mergeTail(tail) {
    var t = report.timeline || (report.timeline = []);
    (tail || []).forEach(function (p) {
      for (var i = t.length - 1; i >= 0 && i >= t.length - 5; i--) {
        if (t[i].at === p.at) { t[i] = p; return; }
      }
      t.push(p);
    });
    t.sort(function (a, b) { return Date.parse(a.at) - Date.parse(b.at); });
  }

  function render(r) {
    mergeTail(r.timeline_tail);
    r.timeline = report.timeline;
    var m = r.metrics;
    root.querySelectorAll("[data-metric]").forEach(function (e) {
      text(e, fmt(m[e.dataset.metric], e.dataset.format, m.currency));
    });
    var other = otherRevenue(m);
    text(document.getElementById("revenue-other"), other ? "also " + other + " (not added)" : "");
    text(document.getElementById("status"), r.status);
    text(document.getElementById("progress"), progressText(r));
    var reasons = document.getElementById("progress-reasons");
    reasons.replaceChildren.apply(reasons, (r.progress.reasons || []).map(function (x) {
      return el("li", {}, [x.count + " " + x.status + ": " + x.reason]);
    }));
    var last = (report.timeline || [])[(report.timeline || []).length - 1];
    text(document.getElementById("partial"), last && last.partial ? partialText(last) : "");

    var goals = document.getElementById("goals");
    goals.replaceChildren.apply(goals, (r.goals || []).map(function (g) {
      var kids = [el("span", { "class": "name" }, [g.name]), " ", el("code", {}, [g.when]), " ",
        bar(g.progress), " ", el("span", { "class": "state" }, [g.status + " · " + fmt(g.progress, "pct")])];
      (g.terms || []).forEach(function (t) {
        kids.push(" ", el("span", { "class": "term" }, [t.metric + " " + termValue(t.metric, t.value) + " / " + t.op + " " + termValue(t.metric, t.target)]));
      });
      if (g.target_date) kids.push(" ", el("span", { "class": "target" }, ["by " + g.target_date.slice(0, 16).replace("T", " ")]));
      return el("li", { "class": g.status }, kids);
    }));

    var steps = document.getElementById("steps");
    steps.replaceChildren.apply(steps, Object.keys(r.steps || {}).sort().map(function (k) {
      var s = r.steps[k];
      return el("tr", {}, [k, s.sent, s.delivered, s.unique_opens, fmt(s.open_rate, "pct"), s.unique_clicks, fmt(s.ctr, "pct"),
        s.conversions, fmt(s.revenue, "money", s.currency) + (otherRevenue(s) ? " · also " + otherRevenue(s) : "")].map(function (v) { return el("td", {}, [String(v)]); }));
    }));

    var sent = m.sent;
    var rows = [["sent", m.sent], ["delivered", m.delivered], ["opened", m.unique_opens], ["clicked", m.unique_clicks], ["converted", m.converted]];
    var funnel = document.getElementById("funnel");
    funnel.replaceChildren.apply(funnel, rows.map(function (row) {
      return el("div", {}, [el("span", { "class": "label" }, [row[0]]), bar(sent > 0 ? row[1] / sent : 0), el("b", {}, [String(row[1])])]);
    }));

    var links = document.getElementById("links");
    links.replaceChildren.apply(links, (r.links || []).map(function (l) {
      var a = el("a", { href: l.url, rel: "noopener noreferrer" }, [l.name || l.url]);
      return el("tr", {}, [el("td", {}, [l.step]), el("td", {}, [a]), el("td", {}, [String(l.clicks)]),
        el("td", {}, [String(l.unique_clicks)]), el("td", {}, [String(l.total_clicks)]), el("td", {}, [fmt(l.human_share, "pct")])]);
    }));
    drawChart(r);
  }

  drawChart(report);
  if (window.EventSource) {
    var live = document.getElementById("live");
    var es = new EventSource(root.dataset.stream);
    es.addEventListener("report", function (ev) {
      render(JSON.parse(ev.data));
      live.textContent = "live"; live.className = "live on";
    });
    es.onerror = function () { live.textContent = "reconnecting…"; live.className = "live"; };
  }
})();
