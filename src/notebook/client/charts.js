/*
 * Chart helpers for notebook pages, drawn in the browser with the inlined d3 (global `d3`).
 * Plain JavaScript on purpose: the builder inlines this file as it is, so a page needs no bundler and
 * no network. Every chart has axes with units, a legend, and a tooltip with the exact values; the
 * builder adds the caption and a table of the exact values under each chart.
 *
 *   NB.line(el, { x: Axis, y: Axis, series: [{ name, x: [..], y: [..] }], step, points })
 *   NB.bars(el, { x: { label }, y: Axis, groups: [..], keys: [..], values: [[..]] })   // values[group][key]
 *   NB.stackedArea(el, { x: Axis, y: Axis, panels: [{ name, x: [..], series: [{ name, y: [..] }] }] })
 *   Axis = { label, unit, scale: "linear" | "log" }
 *
 * ```chart-js blocks call these with data they shape themselves (see notebooks/README.md).
 */
;(function () {
  "use strict"
  var d3 = window.d3
  var palette = d3.schemeTableau10.concat(["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02"])
  var margin = { top: 12, right: 20, bottom: 46, left: 68 }

  function color(i) {
    return palette[i % palette.length]
  }

  var exact = d3.format(",.6~r")
  function fmt(v) {
    if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) return "–"
    if (typeof v !== "number") return String(v)
    if (Number.isInteger(v)) return v.toLocaleString("en-US")
    return exact(v)
  }

  /** "label (unit)", unless the label already names the unit. */
  function axisTitle(a) {
    if (!a.unit) return a.label
    var re = new RegExp("(^|\\W)" + a.unit.replace(/[.*+?^${}()|[\]\\]/g, "\\$&") + "(\\W|$)", "i")
    return re.test(a.label) ? a.label : a.label + " (" + a.unit + ")"
  }

  /** Plain numbers ("0.5", "1,200") up to 10,000; SI prefixes ("25k", "1.2M") above; log scales label 1-2-5 only. */
  function tickFormat(scale, unit, count) {
    var d = scale.domain()
    var big = Math.max(Math.abs(d[0]), Math.abs(d[d.length - 1])) >= 10000 && unit !== "%"
    if (scale.base) {
      var f = d3.format(big ? "~s" : ",~r")
      return function (v) {
        var lead = v / Math.pow(10, Math.floor(Math.log10(v) + 1e-9))
        return Math.abs(lead - 1) < 1e-6 || Math.abs(lead - 2) < 1e-6 || Math.abs(lead - 5) < 1e-6 ? f(v) : ""
      }
    }
    return big ? d3.format("~s") : scale.tickFormat(count)
  }

  var tip
  function tooltip() {
    if (!tip) {
      tip = d3.select("body").append("div").attr("class", "nb-tip").attr("role", "tooltip").style("display", "none")
    }
    return tip
  }
  function showTip(html, event) {
    var t = tooltip()
    t.html(html).style("display", "block")
    var node = t.node()
    var w = node.offsetWidth
    var x = event.pageX + 14
    if (x + w > window.scrollX + document.documentElement.clientWidth - 8) x = event.pageX - w - 14
    t.style("left", x + "px").style("top", event.pageY + 12 + "px")
  }
  function hideTip() {
    tooltip().style("display", "none")
  }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]
    })
  }

  function legend(el, names, startIndex) {
    var box = d3.select(el).append("div").attr("class", "nb-legend")
    names.forEach(function (n, i) {
      var item = box.append("span").attr("class", "nb-legend-item")
      item.append("span").attr("class", "nb-swatch").style("background", color((startIndex || 0) + i))
      item.append("span").text(n)
    })
    return box
  }

  /** Width of an axis label (d3 axes draw 10px sans-serif), measured in an off-screen SVG. */
  var ruler
  function textWidth(s) {
    if (!ruler) {
      ruler = d3.select("body").append("svg").attr("aria-hidden", "true").style("position", "absolute").style("left", "-9999px").style("top", "0")
        .append("text").attr("font-family", "sans-serif").attr("font-size", 10)
    }
    ruler.text(s)
    return ruler.node().getComputedTextLength()
  }

  function frame(el, height, extraBottom) {
    var width = Math.max(320, Math.min(el.clientWidth || 760, 980))
    var h = (height || 340) + (extraBottom || 0)
    var svg = d3
      .select(el)
      .append("svg")
      .attr("class", "nb-svg")
      .attr("viewBox", "0 0 " + width + " " + h)
      .attr("width", width)
      .attr("height", h)
      .attr("role", "img")
    var inner = { w: width - margin.left - margin.right, h: h - margin.top - margin.bottom - (extraBottom || 0) }
    var g = svg.append("g").attr("transform", "translate(" + margin.left + "," + margin.top + ")")
    return { svg: svg, g: g, w: inner.w, h: inner.h }
  }

  function scaleFor(axis, domain, range) {
    if (axis.scale === "log") {
      // No nice(): it would stretch 128…2048 to 100…10,000. A little padding instead.
      var lo = Math.max(domain[0], 1e-9)
      var hi = Math.max(domain[1], lo * 1.0001)
      var pad = Math.pow(hi / lo, 0.04)
      return d3.scaleLog().domain([lo / pad, hi * pad]).range(range)
    }
    var d = domain[0] === domain[1] ? [domain[0] - 1, domain[1] + 1] : domain
    return d3.scaleLinear().domain(d).range(range).nice()
  }

  function axes(f, x, y, xa, ya, xTicks) {
    var bottom = d3.axisBottom(x)
    // A sweep's few x values are the ticks (128, 256, … rather than 200, 500, …).
    if (xTicks) bottom.tickValues(xTicks).tickFormat(d3.format(",~r"))
    else {
      var n = Math.max(2, Math.floor(f.w / 90))
      bottom.ticks(n).tickFormat(tickFormat(x, xa.unit, n))
    }
    f.g.append("g")
      .attr("class", "nb-axis nb-axis-x")
      .attr("transform", "translate(0," + f.h + ")")
      .call(bottom)
    yAxisAndTitles(f, y, ya, axisTitle(xa), 38)
  }

  /** The y axis with its grid lines, the y title, and the x title (if any) `below` pixels under the plot. */
  function yAxisAndTitles(f, y, ya, xTitle, below) {
    f.g.append("g").attr("class", "nb-axis nb-axis-y").call(d3.axisLeft(y).ticks(6).tickFormat(tickFormat(y, ya.unit, 6)))
    f.g.append("g")
      .attr("class", "nb-grid")
      .call(d3.axisLeft(y).ticks(6).tickSize(-f.w).tickFormat(""))
      .call(function (g) {
        g.select(".domain").remove()
      })
    if (xTitle) f.g.append("text").attr("class", "nb-axis-title").attr("x", f.w / 2).attr("y", f.h + below).attr("text-anchor", "middle").text(xTitle)
    f.g.append("text")
      .attr("class", "nb-axis-title")
      .attr("transform", "rotate(-90)")
      .attr("x", -f.h / 2)
      .attr("y", -52)
      .attr("text-anchor", "middle")
      .text(axisTitle(ya))
  }

  function extent(arrays, positiveOnly) {
    var lo = Infinity,
      hi = -Infinity
    arrays.forEach(function (a) {
      a.forEach(function (v) {
        if (v === null || v === undefined || !isFinite(v) || (positiveOnly && v <= 0)) return
        if (v < lo) lo = v
        if (v > hi) hi = v
      })
    })
    if (lo === Infinity) return [0, 1]
    return [lo, hi]
  }

  /** Nearest index of `v` in the sorted array `xs`. */
  function nearest(xs, v) {
    var i = d3.bisectLeft(xs, v)
    if (i <= 0) return 0
    if (i >= xs.length) return xs.length - 1
    return v - xs[i - 1] <= xs[i] - v ? i - 1 : i
  }

  function line(el, c) {
    var series = c.series
    var yDomain = extent(
      series.map(function (s) {
        return s.y
      }),
      c.y.scale === "log"
    )
    if (c.y.scale !== "log" && yDomain[0] > 0 && yDomain[0] < yDomain[1] * 0.5) yDomain[0] = 0
    var xDomain = extent(
      series.map(function (s) {
        return s.x
      }),
      c.x.scale === "log"
    )
    legend(
      el,
      series.map(function (s) {
        return s.name
      })
    )
    var f = frame(el)
    var x = scaleFor(c.x, xDomain, [0, f.w])
    var y = scaleFor(c.y, yDomain, [f.h, 0])
    var distinct = []
    series.forEach(function (s) {
      s.x.forEach(function (v) {
        if (distinct.indexOf(v) < 0) distinct.push(v)
      })
    })
    // A sweep's values as ticks, when they are few and far enough apart to be read.
    distinct.sort(d3.ascending)
    var apart = distinct.every(function (v, i) {
      return i === 0 || x(v) - x(distinct[i - 1]) >= 44
    })
    axes(f, x, y, c.x, c.y, c.points && distinct.length <= 12 && apart ? distinct : undefined)
    var ok = function (v) {
      return v !== null && v !== undefined && isFinite(v) && (c.y.scale !== "log" || v > 0)
    }
    var gen = d3
      .line()
      .defined(function (d) {
        return ok(d[1])
      })
      .x(function (d) {
        return x(d[0])
      })
      .y(function (d) {
        return y(d[1])
      })
      .curve(c.step ? d3.curveStepAfter : d3.curveLinear)
    var plot = f.g.append("g").attr("class", "nb-marks")
    series.forEach(function (s, i) {
      var pts = s.x.map(function (xv, k) {
        return [xv, s.y[k]]
      })
      plot
        .append("path")
        .attr("class", "nb-line")
        .attr("fill", "none")
        .attr("stroke", color(i))
        // Earlier series drawn wider underneath, so that lines lying on top of each other stay visible.
        .attr("stroke-width", series.length > 1 ? 2 + (2 * (series.length - 1 - i)) / (series.length - 1) : 2)
        .attr("d", gen(pts))
        .append("title")
        .text(s.name)
      if (c.points || pts.length <= 2) {
        plot
          .append("g")
          .selectAll("circle")
          .data(
            pts.filter(function (p) {
              return ok(p[1])
            })
          )
          .join("circle")
          .attr("class", "nb-point")
          .attr("r", 3.5)
          .attr("fill", color(i))
          .attr("cx", function (p) {
            return x(p[0])
          })
          .attr("cy", function (p) {
            return y(p[1])
          })
      }
    })
    // Hover: a rule at the nearest x and every series' exact value there.
    var rule = f.g.append("line").attr("class", "nb-rule").attr("y1", 0).attr("y2", f.h).style("display", "none")
    var dots = f.g.append("g").attr("class", "nb-hover")
    f.g.append("rect")
      .attr("class", "nb-overlay")
      .attr("width", f.w)
      .attr("height", f.h)
      .attr("fill", "transparent")
      .on("mousemove", function (event) {
        var mx = x.invert(d3.pointer(event, this)[0])
        var rows = []
        var best = null
        series.forEach(function (s, i) {
          if (s.x.length === 0) return
          var k = nearest(s.x, mx)
          rows.push({ i: i, name: s.name, x: s.x[k], y: s.y[k] })
          if (best === null || Math.abs(s.x[k] - mx) < Math.abs(best - mx)) best = s.x[k]
        })
        if (best === null) return
        rule.style("display", null).attr("x1", x(best)).attr("x2", x(best))
        dots
          .selectAll("circle")
          .data(
            rows.filter(function (r) {
              return ok(r.y)
            })
          )
          .join("circle")
          .attr("r", 4)
          .attr("fill", "white")
          .attr("stroke", function (r) {
            return color(r.i)
          })
          .attr("stroke-width", 2)
          .attr("cx", function (r) {
            return x(r.x)
          })
          .attr("cy", function (r) {
            return y(r.y)
          })
        var html =
          "<div class='nb-tip-head'>" +
          esc(c.x.label) +
          ": " +
          fmt(best) +
          (c.x.unit ? " " + esc(c.x.unit) : "") +
          "</div><table>" +
          rows
            .map(function (r) {
              return (
                "<tr><td><span class='nb-swatch' style='background:" +
                color(r.i) +
                "'></span>" +
                esc(r.name) +
                "</td><td class='num'>" +
                fmt(r.y) +
                (c.y.unit ? " " + esc(c.y.unit) : "") +
                "</td></tr>"
              )
            })
            .join("") +
          "</table>"
        showTip(html, event)
      })
      .on("mouseleave", function () {
        rule.style("display", "none")
        dots.selectAll("circle").remove()
        hideTip()
      })
  }

  function bars(el, c) {
    legend(el, c.keys)
    // Long group names are tilted; the room they need goes below the plot.
    var width = Math.max(320, Math.min(el.clientWidth || 760, 980)) - margin.left - margin.right
    var band = width / Math.max(1, c.groups.length)
    var longest = d3.max(c.groups, function (g) {
      return g.length
    }) || 0
    // Labels made of parts ("hosts=100 · requests=10000") go on several lines; others are tilted.
    var lines = c.groups.map(function (g) {
      return g.split(" · ")
    })
    var widest = d3.max(lines, function (ls) {
      return d3.max(ls, textWidth)
    }) || 0
    var rows = d3.max(lines, function (ls) {
      return ls.length
    }) || 1
    var stack = rows > 1 && widest <= band * 0.95
    var tilt = !stack && d3.max(c.groups, textWidth) > band * 0.95
    var extra = stack ? (rows - 1) * 14 : tilt ? Math.min(140, Math.round(longest * 6.5 * 0.5)) : 0
    var f = frame(el, 360, extra)
    var x0 = d3.scaleBand().domain(d3.range(c.groups.length)).range([0, f.w]).paddingInner(0.18).paddingOuter(0.08)
    var x1 = d3.scaleBand().domain(d3.range(c.keys.length)).range([0, x0.bandwidth()]).padding(0.06)
    var all = [].concat.apply([], c.values)
    var hi = d3.max(all, function (v) {
      return v === null ? 0 : v
    })
    var y = c.y.scale === "log" ? scaleFor(c.y, extent([all], true), [f.h, 0]) : d3.scaleLinear().domain([0, hi > 0 ? hi : 1]).range([f.h, 0]).nice()
    var xAxis = f.g
      .append("g")
      .attr("class", "nb-axis nb-axis-x")
      .attr("transform", "translate(0," + f.h + ")")
      .call(
        d3.axisBottom(x0).tickFormat(function (i) {
          return c.groups[i]
        })
      )
    if (stack) {
      xAxis.selectAll(".tick text").each(function (i) {
        var t = d3.select(this).text("")
        lines[i].forEach(function (l, k) {
          t.append("tspan").attr("x", 0).attr("dy", k === 0 ? "0.71em" : "1.2em").text(l)
        })
      })
    }
    if (tilt) {
      // Tilted labels hang to the left: cut very long ones (the full label is in the tooltip and the table).
      xAxis
        .selectAll(".tick text")
        .text(function (i) {
          var g = c.groups[i]
          return g.length > 26 ? g.slice(0, 25) + "…" : g
        })
        .attr("transform", "rotate(-30)")
        .attr("text-anchor", "end")
        .attr("dx", "-0.4em")
        .attr("dy", "0.9em")
    }
    yAxisAndTitles(f, y, c.y, c.x.label, extra + 40)
    var base = c.y.scale === "log" ? f.h : y(0)
    var cells = []
    c.values.forEach(function (row, gi) {
      row.forEach(function (v, ki) {
        cells.push({ g: gi, k: ki, v: v })
      })
    })
    f.g.append("g")
      .attr("class", "nb-marks")
      .selectAll("rect")
      .data(cells)
      .join("rect")
      .attr("class", "nb-bar")
      .attr("x", function (d) {
        return x0(d.g) + x1(d.k)
      })
      .attr("width", x1.bandwidth())
      .attr("y", function (d) {
        return d.v === null || (c.y.scale === "log" && d.v <= 0) ? base : Math.min(y(d.v), base - (d.v > 0 ? 1 : 0))
      })
      .attr("height", function (d) {
        if (d.v === null || (c.y.scale === "log" && d.v <= 0)) return 0
        // A zero still gets a hairline so that "zero" and "missing" look different.
        return Math.max(d.v > 0 ? 1 : 0.5, Math.abs(base - y(d.v)))
      })
      .attr("fill", function (d) {
        return color(d.k)
      })
      .on("mousemove", function (event, d) {
        showTip(
          "<div class='nb-tip-head'>" +
            esc(c.groups[d.g]) +
            "</div><table><tr><td><span class='nb-swatch' style='background:" +
            color(d.k) +
            "'></span>" +
            esc(c.keys[d.k]) +
            "</td><td class='num'>" +
            fmt(d.v) +
            (c.y.unit ? " " + esc(c.y.unit) : "") +
            "</td></tr></table>",
          event
        )
      })
      .on("mouseleave", hideTip)
  }

  function stackedArea(el, c) {
    var names = c.panels.length > 0 ? c.panels[0].series.map(function (s) {
      return s.name
    }) : []
    legend(el, names)
    var grid = d3.select(el).append("div").attr("class", c.panels.length > 1 ? "nb-panels" : "nb-panel-single")
    // One y scale for all panels, so that runs compare at a glance.
    var top = 0
    c.panels.forEach(function (p) {
      for (var i = 0; i < p.x.length; i++) {
        var sum = 0
        p.series.forEach(function (s) {
          sum += s.y[i] || 0
        })
        if (sum > top) top = sum
      }
    })
    c.panels.forEach(function (p) {
      var cell = grid.append("div").attr("class", "nb-panel")
      if (c.panels.length > 1) cell.append("div").attr("class", "nb-panel-title").text(p.name)
      var f = frame(cell.node(), c.panels.length > 1 ? 260 : 340)
      var x = scaleFor(c.x, extent([p.x], c.x.scale === "log"), [0, f.w])
      var y = d3.scaleLinear().domain([0, top > 0 ? top : 1]).range([f.h, 0]).nice()
      axes(f, x, y, c.x, c.y)
      var rows = p.x.map(function (xv, i) {
        var o = { x: xv }
        p.series.forEach(function (s, k) {
          o[k] = s.y[i] || 0
        })
        return o
      })
      var stack = d3.stack().keys(d3.range(p.series.length))(rows)
      var area = d3
        .area()
        .x(function (d) {
          return x(d.data.x)
        })
        .y0(function (d) {
          return y(d[0])
        })
        .y1(function (d) {
          return y(d[1])
        })
      f.g.append("g")
        .attr("class", "nb-marks")
        .selectAll("path")
        .data(stack)
        .join("path")
        .attr("class", "nb-area")
        .attr("fill", function (d) {
          return color(d.key)
        })
        .attr("fill-opacity", 0.85)
        .attr("d", area)
      var rule = f.g.append("line").attr("class", "nb-rule").attr("y1", 0).attr("y2", f.h).style("display", "none")
      f.g.append("rect")
        .attr("class", "nb-overlay")
        .attr("width", f.w)
        .attr("height", f.h)
        .attr("fill", "transparent")
        .on("mousemove", function (event) {
          if (p.x.length === 0) return
          var k = nearest(p.x, x.invert(d3.pointer(event, this)[0]))
          rule.style("display", null).attr("x1", x(p.x[k])).attr("x2", x(p.x[k]))
          var total = 0
          var body = p.series
            .map(function (s, i) {
              total += s.y[k] || 0
              return (
                "<tr><td><span class='nb-swatch' style='background:" +
                color(i) +
                "'></span>" +
                esc(s.name) +
                "</td><td class='num'>" +
                fmt(s.y[k]) +
                (c.y.unit ? " " + esc(c.y.unit) : "") +
                "</td></tr>"
              )
            })
            .reverse()
            .join("")
          showTip(
            "<div class='nb-tip-head'>" +
              (c.panels.length > 1 ? esc(p.name) + " — " : "") +
              esc(c.x.label) +
              ": " +
              fmt(p.x[k]) +
              (c.x.unit ? " " + esc(c.x.unit) : "") +
              "</div><table>" +
              body +
              "<tr class='nb-total'><td>total</td><td class='num'>" +
              fmt(total) +
              (c.y.unit ? " " + esc(c.y.unit) : "") +
              "</td></tr></table>",
            event
          )
        })
        .on("mouseleave", function () {
          rule.style("display", "none")
          hideTip()
        })
    })
  }

  function fail(el, err) {
    d3.select(el).append("pre").attr("class", "nb-error").text("This chart could not be drawn: " + (err && err.message ? err.message : String(err)))
    console.error(err)
  }

  /** Draws a chart compiled by the builder into `el`. */
  function draw(el, c) {
    try {
      if (c.kind === "line") line(el, c)
      else if (c.kind === "bar") bars(el, c)
      else if (c.kind === "area") stackedArea(el, c)
      else throw new Error("unknown chart kind " + c.kind)
    } catch (e) {
      fail(el, e)
    }
  }

  /** Runs a ```chart-js block's function with its experiment's data. */
  function custom(el, data, fn) {
    try {
      fn(el, data, NB, d3)
    } catch (e) {
      fail(el, e)
    }
  }

  var NB = { line: line, bars: bars, stackedArea: stackedArea, draw: draw, custom: custom, color: color, format: fmt, legend: legend }
  window.NB = NB

  function start() {
    var node = document.getElementById("nb-data")
    if (!node) return
    var data = JSON.parse(node.textContent)
    document.querySelectorAll("[data-nb-chart]").forEach(function (el) {
      draw(el, data.charts[Number(el.getAttribute("data-nb-chart"))])
    })
    var blocks = window.NB_BLOCKS || []
    document.querySelectorAll("[data-nb-custom]").forEach(function (el) {
      var i = Number(el.getAttribute("data-nb-custom"))
      var b = blocks[i]
      custom(el, data.experiments[b.experiment], b.fn)
    })
    document.body.setAttribute("data-nb-ready", "true")
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start)
  else start()
})()
