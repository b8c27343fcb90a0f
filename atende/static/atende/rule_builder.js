/* Visual rule builder. It enhances every <textarea data-rule-builder="conditions|actions"> of the page with rows of
 * field · operator · value (or action · parameters), reading its choices from the JSON data block
 * #rule-builder-catalogue, and writes the same JSON back into the textarea on every change: the form posts what
 * it always posted and the server stays the only judge of a rule. "Edit as JSON" shows the textarea again.
 * No inline styles or handlers: hiding uses the hidden attribute, looks come from atende.css. */
(function () {
  "use strict";
  var dataBlock = document.getElementById("rule-builder-catalogue");
  if (!dataBlock) return;
  var cat = JSON.parse(dataBlock.textContent);
  var T = cat.texts;
  var fieldsByName = {};
  cat.fields.forEach(function (f) { fieldsByName[f.name] = f; });
  var actionsByType = {};
  cat.actions.forEach(function (a) { actionsByType[a.type] = a; });
  var customByKey = {};
  cat.custom_fields.forEach(function (f) { customByKey[f.key] = f; });
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

  function select(options, value, props) {
    var node = el("select", props);
    options.forEach(function (o) {
      var option = el("option", { value: String(o[0]), text: o[1] });
      node.appendChild(option);
    });
    setSelected(node, value);
    return node;
  }

  function setSelected(node, value) {
    var values = (Array.isArray(value) ? value : [value]).filter(function (v) { return v !== undefined && v !== null; })
      .map(String);
    values.forEach(function (v) {  // a saved id beyond the picker's list still shows, as its number
      if (v !== "" && !Array.prototype.some.call(node.options, function (o) { return o.value === v; })) {
        node.appendChild(el("option", { value: v, text: "#" + v }));
      }
    });
    Array.prototype.forEach.call(node.options, function (o) { o.selected = values.indexOf(o.value) >= 0; });
  }

  function datalist(id, values) {
    if (!document.getElementById(id)) {
      document.body.appendChild(el("datalist", { id: id }, values.map(function (v) { return el("option", { value: v }); })));
    }
    return id;
  }

  function splitList(text) {
    return String(text || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
  }

  function labelOf(options, value) {
    var hit = (options || []).filter(function (o) { return String(o[0]) === String(value); })[0];
    return hit ? hit[1] : String(value);
  }

  /* A value control: {node, read(), text()} — read() gives the JSON value, text() the words for the summary. */
  function valueControl(kind, options, value, multiple, label) {
    var common = { "aria-label": label, className: "rb-value" };
    if (kind === "choice" || kind === "ref") {
      var props = Object.assign({}, common);
      if (multiple) props.multiple = "multiple";
      var opts = multiple ? options : [["", T.choose]].concat(options);
      var node = select(opts, value, props);
      var asNumber = kind === "ref";
      return {
        node: node,
        read: function () {
          var picked = Array.prototype.filter.call(node.options, function (o) { return o.selected && o.value !== ""; })
            .map(function (o) { return asNumber ? Number(o.value) : o.value; });
          return multiple ? picked : (picked.length ? picked[0] : "");
        },
        text: function () {
          var picked = this.read();
          return (Array.isArray(picked) ? picked : [picked]).map(function (v) { return labelOf(options, v); })
            .join(", ");
        },
      };
    }
    var input;
    if (kind === "textarea") {
      input = el("textarea", Object.assign({ rows: 3 }, common));
      input.value = value || "";
    } else {
      var type = kind === "number" && !multiple ? "number" : "text";
      var attrs = Object.assign({ type: type, step: type === "number" ? "any" : null }, common);
      if (kind === "tags") attrs.list = datalist("rule-builder-tags", cat.tags);
      if (kind === "email_to") attrs.list = datalist("rule-builder-email-targets", cat.email_targets);
      if (multiple || kind === "tags") attrs.placeholder = T.comma;
      input = el("input", attrs);
      input.value = Array.isArray(value) ? value.join(", ") : (value === undefined || value === null ? "" : value);
    }
    return {
      node: input,
      read: function () {
        if (multiple || kind === "tags") {
          var items = splitList(input.value);
          return kind === "number" ? items.map(Number) : items;
        }
        if (kind === "number") return input.value === "" ? "" : Number(input.value);
        return input.value;
      },
      text: function () { return input.value; },
    };
  }

  /* ---- conditions ---- */

  function conditionRow(cond, onChange) {
    var row = el("li", { className: "rb-row" });
    var fieldOptions = [["", T.choose]].concat(cat.fields.map(function (f) { return [f.name, f.label]; }));
    var fieldSelect = select(fieldOptions, cond.field || "", { "aria-label": T.field, className: "rb-field" });
    var opSelect = el("select", { "aria-label": T.operator, className: "rb-op" });
    var slot = el("span", { className: "rb-slot" });
    var remove = el("button", { type: "button", className: "link rb-remove", text: "×", "aria-label": T.remove,
                                title: T.remove });
    var control = null;
    row.append(fieldSelect, opSelect, slot, remove);

    function renderOps(op) {
      var field = fieldsByName[fieldSelect.value];
      opSelect.textContent = "";
      (field ? field.ops : []).forEach(function (o) { opSelect.appendChild(el("option", { value: o, text: cat.ops[o] || o })); });
      opSelect.disabled = !field;
      if (op && field && field.ops.indexOf(op) >= 0) opSelect.value = op;
    }

    function renderValue(value) {
      var field = fieldsByName[fieldSelect.value];
      var op = opSelect.value;
      slot.textContent = "";
      control = null;
      if (!field || !op || cat.no_value_ops.indexOf(op) >= 0) return;
      var multiple = cat.list_value_ops.indexOf(op) >= 0 ||
        (field.kind === "tags" && (op === "changed_to" || op === "changed_from"));
      var kind = field.kind === "ref" ? "ref" : field.kind;
      var options = field.kind === "ref" ? cat.refs[field.ref] || [] : field.choices;
      if (field.kind === "tags") kind = "tags";
      control = valueControl(kind, options, value, multiple && kind !== "tags", T.value);
      slot.appendChild(control.node);
    }

    renderOps(cond.op);
    renderValue(cond.value);
    fieldSelect.addEventListener("change", function () { renderOps(); renderValue(); onChange(); });
    opSelect.addEventListener("change", function () {
      var keep = control ? control.read() : undefined;
      renderValue(keep);
      onChange();
    });
    row.addEventListener("input", onChange);
    row.addEventListener("change", onChange);
    remove.addEventListener("click", function () { row.remove(); onChange(); });

    row.read = function () {
      if (!fieldSelect.value) return null;
      var out = { field: fieldSelect.value, op: opSelect.value };
      if (control) out.value = control.read();
      return out;
    };
    row.text = function () {
      var field = fieldsByName[fieldSelect.value];
      if (!field) return "";
      return [field.label.toLowerCase(), cat.ops[opSelect.value] || opSelect.value, control ? control.text() : ""]
        .filter(Boolean).join(" ");
    };
    return row;
  }

  /* A value outside the choices (a typo typed as JSON) is shown as JSON, where the server's error points at it. */
  function knownChoices(options, value) {
    var known = (options || []).map(function (o) { return String(o[0]); });
    return (Array.isArray(value) ? value : [value]).every(function (v) {
      return v === undefined || v === null || v === "" || known.indexOf(String(v)) >= 0;
    });
  }

  function conditionsSupported(value) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
    return Object.keys(value).every(function (group) {
      if (group !== "all" && group !== "any") return false;
      var items = value[group] || [];
      return Array.isArray(items) && items.every(function (c) {
        var field = c && fieldsByName[c.field];
        return field && field.ops.indexOf(c.op) >= 0 && Object.keys(c).every(function (k) {
          return k === "field" || k === "op" || k === "value";
        }) && (field.kind !== "choice" || knownChoices(field.choices, c.value));
      });
    });
  }

  function conditionsEditor(value, onChange) {
    var root = el("div", { className: "rb-conditions" });
    var lists = {};
    ["all", "any"].forEach(function (group) {
      var list = el("ul", { className: "rb-rows" });
      var add = el("button", { type: "button", className: "rb-add", text: "+ " + T.add_condition });
      add.addEventListener("click", function () {
        var row = conditionRow({}, onChange);
        list.appendChild(row);
        row.querySelector("select").focus();
      });
      (value[group] || []).forEach(function (c) { list.appendChild(conditionRow(c, onChange)); });
      lists[group] = list;
      root.appendChild(el("fieldset", { className: "rb-group rb-group-" + group },
                          [el("legend", { text: T[group] }), list, add]));
    });
    root.read = function () {
      var out = {};
      ["all", "any"].forEach(function (group) {
        var items = Array.prototype.map.call(lists[group].children, function (row) { return row.read(); })
          .filter(Boolean);
        if (items.length) out[group] = items;
      });
      return out;
    };
    root.text = function () {
      var texts = {};
      ["all", "any"].forEach(function (group) {
        texts[group] = Array.prototype.map.call(lists[group].children, function (row) { return row.text(); })
          .filter(Boolean);
      });
      var parts = texts.all.slice();
      if (texts.any.length) parts.push(texts.any.length > 1 ? "(" + texts.any.join(" " + T.or + " ") + ")" : texts.any[0]);
      return parts.join(" " + T.and + " ");
    };
    return root;
  }

  /* ---- actions ---- */

  function paramControl(param, action, row) {
    var control = param.control;
    var value = action[param.key];
    if (control.indexOf("choice:") === 0) {
      var options = cat.choices[control.slice(7)] || [];
      if (control === "choice:status") options = options.filter(function (o) { return o[0] !== "new"; });
      return valueControl("choice", options, value, false, param.label);
    }
    if (control.indexOf("ref:") === 0) {
      var ref = control.slice(4);
      var refOptions = cat.refs[ref] || [];
      if (ref === "user") {  // "nobody" unassigns: the service takes null
        var picker = valueControl("ref", refOptions, value, false, param.label);
        picker.node.options[0].textContent = T.unassign;
        var read = picker.read;
        picker.read = function () { var v = read(); return v === "" ? null : v; };
        return picker;
      }
      return valueControl("ref", refOptions, value, false, param.label);
    }
    if (control === "custom_key") {
      var keyOptions = cat.custom_fields.map(function (f) { return [f.key, f.label]; });
      return valueControl("choice", keyOptions, value, false, param.label);
    }
    if (control === "custom_value") {
      var field = customByKey[row.customKey()];
      if (field && field.kind === "dropdown") return valueControl("choice", field.choices, value, false, param.label);
      if (field && field.kind === "checkbox") {  // a checkbox field stores true/false, not text
        var box = valueControl("choice", [["true", "✔"], ["false", "✘"]], value === undefined ? "" : String(value),
                               false, param.label);
        var readText = box.read;
        box.read = function () { var v = readText(); return v === "" ? "" : v === "true"; };
        return box;
      }
      return valueControl(field && field.kind === "number" ? "number" : "text", [], value, false, param.label);
    }
    return valueControl(control, [], value, false, param.label);
  }

  function actionRow(action, onChange) {
    var row = el("li", { className: "rb-row" });
    var typeOptions = [["", T.choose]].concat(cat.actions.map(function (a) { return [a.type, a.label]; }));
    var typeSelect = select(typeOptions, action.type || "", { "aria-label": T.action, className: "rb-action" });
    var slot = el("span", { className: "rb-slot rb-params" });
    var remove = el("button", { type: "button", className: "link rb-remove", text: "×", "aria-label": T.remove,
                                title: T.remove });
    var controls = {};
    row.append(typeSelect, slot, remove);
    row.customKey = function () { return controls.key ? controls.key.read() : action.key; };

    function renderParams(values) {
      slot.textContent = "";
      controls = {};
      var spec = actionsByType[typeSelect.value];
      (spec ? spec.params : []).forEach(function (param) {
        var control = paramControl(param, values, row);
        controls[param.key] = control;
        var id = "rb-" + (++uid);
        control.node.id = id;
        slot.appendChild(el("label", { className: "rb-param", for: id }, [el("span", { text: param.label }), control.node]));
        if (param.control === "custom_key") {
          control.node.addEventListener("change", function () {
            var current = row.read() || {};
            delete current.value;
            renderParams(current);
          });
        }
      });
    }

    renderParams(action);
    typeSelect.addEventListener("change", function () { renderParams({}); onChange(); });
    row.addEventListener("input", onChange);
    row.addEventListener("change", onChange);
    remove.addEventListener("click", function () { row.remove(); onChange(); });
    row.read = function () {
      if (!typeSelect.value) return null;
      var out = { type: typeSelect.value };
      Object.keys(controls).forEach(function (key) {
        var v = controls[key].read();
        if (key === "secret" && v === "") return;
        out[key] = v;
      });
      return out;
    };
    row.text = function () {
      var spec = actionsByType[typeSelect.value];
      if (!spec) return "";
      var details = Object.keys(controls).map(function (key) { return controls[key].text(); }).filter(Boolean);
      return spec.label.charAt(0).toLowerCase() + spec.label.slice(1) + (details.length ? " " + details.join(" · ") : "");
    };
    return row;
  }

  function actionsSupported(value) {
    return Array.isArray(value) && value.every(function (a) {
      var spec = a && actionsByType[a.type];
      if (!spec) return false;
      var keys = spec.params.map(function (p) { return p.key; });
      return Object.keys(a).every(function (k) { return k === "type" || keys.indexOf(k) >= 0; }) &&
        spec.params.every(function (p) {
          return p.control.indexOf("choice:") !== 0 || knownChoices(cat.choices[p.control.slice(7)], a[p.key]);
        });
    });
  }

  function actionsEditor(value, onChange) {
    var list = el("ol", { className: "rb-rows" });
    var add = el("button", { type: "button", className: "rb-add", text: "+ " + T.add_action });
    add.addEventListener("click", function () {
      var row = actionRow({}, onChange);
      list.appendChild(row);
      row.querySelector("select").focus();
    });
    value.forEach(function (a) { list.appendChild(actionRow(a, onChange)); });
    var root = el("div", { className: "rb-actions" }, [list, add]);
    root.read = function () {
      return Array.prototype.map.call(list.children, function (row) { return row.read(); }).filter(Boolean);
    };
    root.text = function () {
      return Array.prototype.map.call(list.children, function (row) { return row.text(); }).filter(Boolean)
        .join(", ");
    };
    return root;
  }

  /* ---- one textarea ---- */

  function enhance(area, summary) {
    var mode = area.getAttribute("data-rule-builder");
    var empty = mode === "conditions" ? {} : [];
    var labelNode = area.id ? document.querySelector("label[for='" + area.id + "']") : null;
    var label = labelNode ? labelNode.textContent.replace(/:\s*$/, "") : "";
    var help = area.id ? document.getElementById(area.id + "_helptext") : null;
    var holder = el("div", { className: "rule-builder", role: "group", "aria-label": label,
                             "data-rule-builder-for": area.name });
    var note = el("p", { className: "rb-note", role: "status", hidden: "hidden" });
    var toggle = el("button", { type: "button", className: "link rb-toggle", "aria-pressed": "false", text: T.edit_json });
    var editor = null;
    area.parentNode.insertBefore(holder, area);
    holder.after(note, toggle);

    function write() {
      if (!editor) return;
      var value = editor.read();
      var isEmpty = mode === "conditions" ? !Object.keys(value).length : !value.length;
      area.value = isEmpty ? "" : JSON.stringify(value, null, 2);
      summary.refresh();
    }

    function parse() {
      var text = area.value.trim();
      if (!text) return { ok: true, value: empty };
      try { return { ok: true, value: JSON.parse(text) }; } catch (e) { return { ok: false }; }
    }

    function showJson(message) {
      editor = null;
      holder.textContent = "";
      holder.hidden = true;
      area.hidden = false;
      if (help) help.hidden = false;
      toggle.textContent = T.edit_visual;
      toggle.setAttribute("aria-pressed", "true");
      note.textContent = message || "";
      note.hidden = !message;
      summary.refresh();
    }

    function showBuilder() {
      var parsed = parse();
      if (!parsed.ok) { showJson(T.bad_json); return false; }
      var supported = mode === "conditions" ? conditionsSupported(parsed.value) : actionsSupported(parsed.value);
      if (!supported) { showJson(T.unsupported); return false; }
      holder.textContent = "";
      editor = mode === "conditions" ? conditionsEditor(parsed.value, write) : actionsEditor(parsed.value, write);
      holder.appendChild(editor);
      holder.hidden = false;
      area.hidden = true;
      if (help) help.hidden = true;
      toggle.textContent = T.edit_json;
      toggle.setAttribute("aria-pressed", "false");
      note.hidden = true;
      summary.refresh();
      return true;
    }

    toggle.addEventListener("click", function () {
      if (editor) { write(); showJson(""); area.focus(); } else showBuilder();
    });
    area.addEventListener("input", summary.refresh);
    showBuilder();
    return {
      mode: mode,
      label: label,
      text: function () { return editor ? editor.text() : null; },
    };
  }

  /* ---- the plain-language summary of a form's rule ---- */

  function summaryFor(form) {
    var node = el("p", { className: "rule-summary", "aria-live": "polite" });
    var parts = [];
    var submit = form.querySelector("button[type=submit]");
    form.insertBefore(el("div", { className: "rule-summary-box" }, [el("strong", { text: T.summary + " " }), node]),
                      submit);
    function eventsText() {
      return Array.prototype.filter.call(form.querySelectorAll("input[name=events]"), function (box) { return box.checked; })
        .map(function (box) { return box.closest("label") ? box.closest("label").textContent.trim().toLowerCase() : box.value; })
        .join(" " + T.or + " ");
    }
    var summary = {
      add: function (part) { parts.push(part); },
      refresh: function () {
        if (!parts.length) return;
        var conditions = parts.filter(function (p) { return p.mode === "conditions"; })[0];
        var actions = parts.filter(function (p) { return p.mode === "actions"; });
        var lead = T.when + (eventsText() ? " (" + eventsText() + ")" : "");
        var condText = conditions ? conditions.text() : "";
        var sentence = conditions ? (condText ? lead + " " + T.matches + " " + condText : T.every_ticket) : "";
        actions.forEach(function (a, i) {
          var text = a.text();
          if (text === null) return;
          var piece = actions.length > 1 ? a.label + ": " + (text || T.nothing) : (text || T.nothing);
          sentence += sentence ? (i === 0 && actions.length === 1 ? ", " + T.then + " " : "; ") + piece : piece;
        });
        node.textContent = sentence ? sentence.charAt(0).toUpperCase() + sentence.slice(1) + "." : "";
      },
    };
    form.addEventListener("change", summary.refresh);
    return summary;
  }

  var summaries = new Map();
  document.querySelectorAll("textarea[data-rule-builder]").forEach(function (area) {
    var form = area.form;
    if (!summaries.has(form)) summaries.set(form, summaryFor(form));
    var summary = summaries.get(form);
    summary.add(enhance(area, summary));
  });
  summaries.forEach(function (summary) { summary.refresh(); });
})();
