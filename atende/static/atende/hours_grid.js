/* Business hours as a weekly grid and holidays as a list of dates. It enhances
 * <textarea data-hours-grid> ("mon-fri 09:00-18:00" lines) and <textarea data-holidays-list> ("2025-12-25 Name",
 * "*-12-25 Name" lines) and writes those lines back on every change, so the server parses and checks exactly what
 * it always did. Texts come from the JSON data block #hours-grid-texts; "Edit as text" shows the textarea again. */
(function () {
  "use strict";
  var dataBlock = document.getElementById("hours-grid-texts");
  if (!dataBlock) return;
  var T = JSON.parse(dataBlock.textContent);
  var DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  var uid = 0;

  function el(tag, props, children) {
    var node = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      if (key === "text") node.textContent = props[key];
      else if (key === "className") node.className = props[key];
      else if (props[key] !== undefined && props[key] !== null && props[key] !== false) node.setAttribute(key, props[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function hhmm(text) {
    var m = /^(\d{1,2}):(\d{2})$/.exec(String(text).trim());
    if (!m || Number(m[1]) > 24 || Number(m[2]) > 59) throw new Error("time");
    return (m[1].length === 1 ? "0" : "") + m[1] + ":" + m[2];
  }

  /* The server's line format → {mon: [["09:00", "18:00"]], ...}; throws on a line it cannot read. */
  function parseHours(text) {
    var week = {};
    DAYS.forEach(function (d) { week[d] = []; });
    text.split("\n").forEach(function (raw) {
      var line = raw.trim().toLowerCase();
      if (!line || line[0] === "#") return;
      var space = line.indexOf(" ");
      if (space < 0) throw new Error("line");
      var daysPart = line.slice(0, space), timesPart = line.slice(space + 1);
      var days;
      if (daysPart.indexOf("-") >= 0) {
        var ends = daysPart.split("-");
        var first = DAYS.indexOf(ends[0].slice(0, 3)), last = DAYS.indexOf(ends[1].slice(0, 3));
        if (first < 0 || last < 0) throw new Error("day");
        days = DAYS.slice(first, last + 1);
      } else {
        days = daysPart.split(",").map(function (d) {
          if (DAYS.indexOf(d.slice(0, 3)) < 0) throw new Error("day");
          return d.slice(0, 3);
        });
      }
      var intervals = timesPart.split(",").map(function (chunk) {
        var parts = chunk.trim().split("-");
        if (parts.length !== 2) throw new Error("interval");
        return [hhmm(parts[0]), hhmm(parts[1])];
      });
      days.forEach(function (d) { week[d] = week[d].concat(intervals); });
    });
    return week;
  }

  function parseHolidays(text) {
    return text.split("\n").map(function (l) { return l.trim(); }).filter(function (l) { return l && l[0] !== "#"; })
      .map(function (line) {
        var space = line.indexOf(" ");
        var datePart = space < 0 ? line : line.slice(0, space);
        var name = space < 0 ? "" : line.slice(space + 1).trim();
        var yearly = datePart.indexOf("*-") === 0;
        var iso = yearly ? T.year + datePart.slice(1) : datePart;
        if (!/^\d{4}-\d{2}-\d{2}$/.test(iso)) throw new Error("date");
        return { date: iso, yearly: yearly, name: name };
      });
  }

  function withToggle(area, build, textLabel) {
    var help = area.id ? document.getElementById(area.id + "_helptext") : null;
    var holder = el("div", { className: "hours-editor", "data-editor-for": area.name });
    var note = el("p", { className: "rb-note", role: "status", hidden: "hidden" });
    var toggle = el("button", { type: "button", className: "link rb-toggle", text: textLabel });
    area.parentNode.insertBefore(holder, area);
    holder.after(note, toggle);
    var visual = false;

    function showText(message) {
      visual = false;
      holder.hidden = true;
      area.hidden = false;
      if (help) help.hidden = false;
      toggle.textContent = T.edit_visual;
      note.textContent = message || "";
      note.hidden = !message;
    }

    function showVisual() {
      holder.textContent = "";
      try { holder.appendChild(build()); } catch (e) { showText(T.unreadable); return; }
      visual = true;
      holder.hidden = false;
      area.hidden = true;
      if (help) help.hidden = true;
      note.hidden = true;
      toggle.textContent = textLabel;
    }
    toggle.addEventListener("click", function () {
      if (visual) { showText(""); area.focus(); } else showVisual();
    });
    showVisual();
  }

  function timeInput(value, label) {
    var input = el("input", { type: "time", "aria-label": label, step: 60 });
    input.value = value === "24:00" ? "00:00" : value;
    return input;
  }

  function hoursGrid(area) {
    var week = parseHours(area.value);
    var body = el("tbody");
    var table = el("table", { className: "hours-grid list small" }, [
      el("thead", {}, [el("tr", {}, [el("th", { text: T.day }), el("th", { text: T.open }), el("th", { text: T.hours })])]),
      body,
    ]);
    var rows = DAYS.map(function (day, index) {
      var open = el("input", { type: "checkbox", id: "hours-open-" + day });
      var label = el("label", { for: open.id, text: T.days[index] });
      var list = el("div", { className: "hours-intervals" });
      var add = el("button", { type: "button", className: "link", text: "+ " + T.add_interval,
                               "aria-label": T.add_interval + " · " + T.days[index] });
      function addInterval(from, to) {
        var remove = el("button", { type: "button", className: "link rb-remove", text: "×", "aria-label": T.remove,
                                    title: T.remove });
        var item = el("span", { className: "hours-interval" }, [
          timeInput(from, T.from + " · " + T.days[index]), el("span", { text: "–" }),
          timeInput(to, T.to + " · " + T.days[index]), remove]);
        remove.addEventListener("click", function () {
          item.remove();
          if (!list.children.length) open.checked = false;
          sync();
        });
        list.appendChild(item);
      }
      week[day].forEach(function (iv) { addInterval(iv[0], iv[1]); });
      open.checked = week[day].length > 0;
      open.addEventListener("change", function () {
        if (open.checked && !list.children.length) addInterval("09:00", "18:00");
        if (!open.checked) list.textContent = "";
        sync();
      });
      add.addEventListener("click", function () { open.checked = true; addInterval("13:00", "18:00"); sync(); });
      body.appendChild(el("tr", {}, [el("th", { scope: "row" }, [label]), el("td", {}, [open]),
                                     el("td", {}, [list, add])]));
      return { day: day, list: list };
    });

    function sync() {
      area.value = rows.map(function (row) {
        var intervals = Array.prototype.map.call(row.list.children, function (item) {
          var inputs = item.querySelectorAll("input");
          var from = inputs[0].value, to = inputs[1].value;
          if (to === "00:00" && from !== "00:00") to = "24:00";  // a time field cannot say 24:00: midnight ends the day
          return from + "-" + to;
        }).filter(function (iv) { return iv !== "-"; });
        return intervals.length ? row.day + " " + intervals.join(", ") : "";
      }).filter(Boolean).join("\n");
    }
    table.addEventListener("input", sync);
    table.addEventListener("change", sync);
    return table;
  }

  function holidayList(area) {
    var items = parseHolidays(area.value);
    var list = el("ul", { className: "holiday-list" });
    var add = el("button", { type: "button", className: "rb-add", text: "+ " + T.add_holiday });
    function addRow(holiday) {
      var id = "holiday-" + (++uid);
      var date = el("input", { type: "date", "aria-label": T.date, required: "required" });
      date.value = holiday.date || "";
      var yearly = el("input", { type: "checkbox", id: id + "-yearly" });
      yearly.checked = !!holiday.yearly;
      var name = el("input", { type: "text", "aria-label": T.name, placeholder: T.name, maxlength: 100 });
      name.value = holiday.name || "";
      var remove = el("button", { type: "button", className: "link rb-remove", text: "×", "aria-label": T.remove,
                                  title: T.remove });
      var row = el("li", { className: "rb-row" }, [date, name,
        el("label", { className: "checkbox", for: yearly.id }, [yearly, el("span", { text: T.yearly })]), remove]);
      remove.addEventListener("click", function () { row.remove(); sync(); });
      list.appendChild(row);
      return date;
    }
    items.forEach(addRow);
    add.addEventListener("click", function () { addRow({}).focus(); });

    function sync() {
      area.value = Array.prototype.map.call(list.children, function (row) {
        var inputs = row.querySelectorAll("input");
        var date = inputs[0].value, name = inputs[1].value.trim(), yearly = inputs[2].checked;
        if (!date) return "";
        return (yearly ? "*" + date.slice(4) : date) + (name ? " " + name : "");
      }).filter(Boolean).join("\n");
    }
    var root = el("div", {}, [list, add]);
    root.addEventListener("input", sync);
    root.addEventListener("change", sync);
    return root;
  }

  document.querySelectorAll("textarea[data-hours-grid]").forEach(function (area) {
    withToggle(area, function () { return hoursGrid(area); }, T.edit_text);
  });
  document.querySelectorAll("textarea[data-holidays-list]").forEach(function (area) {
    withToggle(area, function () { return holidayList(area); }, T.edit_text);
  });
})();
