// Staff page, 知识库 (issue 20 §2): questions the procedure document does not cover (national and city policy,
// other offices' business), answered from entries the career center writes here: a few wordings of the question,
// the answer and its source. Saved entries answer students on their next question, without retraining; retired
// ones never answer again and keep their history. Counselors read only (the backend refuses their changes: 403).
// Self-contained like deadlines.js: it adds its own tab (#knowledge) and section; sign-in, token and API client
// are staff.js's (window.ZZStaff).
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var api = window.ZZStaff.api, el = window.ZZStaff.el, token = window.ZZStaff.token;
  var st = { me: null, built: false, list: [], current: null, q: "" };
  var FIELD_IDS = { questions: "kb-questions", answer: "kb-answer", source: "kb-source" };

  function fmtTime(iso) { return iso ? iso.replace("T", " ").slice(0, 16) : ""; }
  function canEdit() { return !!(st.me && st.me.role === "school"); }

  // --- the tab and the section (built once) -------------------------------------------------------------------
  function field(id, labelText, control, hint) { return window.ZZStaff.field(id, labelText, control, hint, "kb-field"); }
  function build() {
    if (st.built) return;
    st.built = true;
    $("tabs").appendChild(el("a", { href: "#knowledge", id: "tab-knowledge" }, "知识库"));
    var sec = el("section", { id: "knowledge", className: "knowledge", "aria-labelledby": "kb-h" });
    sec.hidden = true;
    sec.appendChild(el("h2", { id: "kb-h", tabindex: "-1" }, "知识库"));
    sec.appendChild(el("p", { className: "hint", id: "kb-hint" }));
    var split = el("div", { className: "split" });

    var listPane = el("div", { className: "card list-pane" });
    var search = el("form", { id: "kb-search-form", role: "search" });
    search.appendChild(el("label", { "for": "kb-search" }, "搜索知识（问法、回答或依据）"));
    var row = el("div", { className: "row" });
    row.appendChild(el("input", { id: "kb-search", type: "search", autocomplete: "off" }));
    row.appendChild(el("button", { type: "submit" }, "搜索"));
    search.appendChild(row);
    listPane.appendChild(search);
    listPane.appendChild(el("button", { type: "button", id: "kb-new-btn", className: "kb-new" }, "新增知识"));
    listPane.appendChild(el("p", { id: "kb-count", className: "muted", "aria-live": "polite" }));
    listPane.appendChild(el("ul", { id: "kb-list", className: "answer-list", "aria-label": "知识列表" }));
    split.appendChild(listPane);

    var ed = el("div", { className: "card editor-pane", id: "kb-editor" });
    ed.hidden = true;
    ed.appendChild(el("h3", { id: "kb-editor-h", tabindex: "-1" }));
    ed.appendChild(el("p", { className: "muted", id: "kb-meta" }));
    var ro = el("p", { id: "kb-readonly", className: "note" }, "您是学院老师，可以查看知识库；如需新增或修改，请联系学校就业指导中心。");
    ro.hidden = true;
    ed.appendChild(ro);
    var retiredNote = el("p", { id: "kb-retired-note", className: "note" }, "这条知识已停用，不再回答学生；下面是它停用前的内容和历史。");
    retiredNote.hidden = true;
    ed.appendChild(retiredNote);
    var form = el("form", { id: "kb-form", novalidate: "" });
    form.appendChild(field("kb-questions", "学生的问法（每行一种）", el("textarea", { rows: "5" }),
      "写几种学生真实会问的说法，例如“档案放人才中心要不要交费”“人才市场存档案收费吗”。意思相近的其他问法也能匹配到。"));
    form.appendChild(field("kb-answer", "回答", el("textarea", { rows: "7", maxlength: "2000" }),
      "准确、简洁；各地或各学院不同的，请写明“以……通知为准”。"));
    form.appendChild(field("kb-source", "依据（显示在回答下方）", el("input", { type: "text", maxlength: "200" }),
      "官方文件名称或负责部门，例如“教育部《关于做好2023届全国普通高校毕业生就业创业工作的通知》”。"));
    var extra = el("div", { id: "kb-extra" });
    extra.appendChild(field("kb-note", "修改说明（可选，记入历史版本）", el("input", { type: "text", maxlength: "200" })));
    var buttons = el("div", { className: "row buttons" });
    buttons.appendChild(el("button", { type: "submit", id: "kb-save-btn" }, "保存并立即生效"));
    buttons.appendChild(el("button", { type: "button", id: "kb-retire-btn", className: "secondary" }, "停用"));
    extra.appendChild(buttons);
    var confirmBox = el("div", { id: "kb-confirm", className: "note", role: "group", "aria-labelledby": "kb-confirm-q" });
    confirmBox.hidden = true;
    confirmBox.appendChild(el("p", { id: "kb-confirm-q" }, "停用后这条知识不再回答学生（历史记录保留）。确定停用吗？"));
    var cb = el("div", { className: "row buttons" });
    cb.appendChild(el("button", { type: "button", id: "kb-retire-yes" }, "确定停用"));
    cb.appendChild(el("button", { type: "button", id: "kb-retire-no", className: "secondary" }, "取消"));
    confirmBox.appendChild(cb);
    extra.appendChild(confirmBox);
    form.appendChild(extra);
    form.appendChild(el("p", { id: "kb-status", className: "status", role: "status", "aria-live": "polite" }));
    ed.appendChild(form);
    ed.appendChild(el("h4", { id: "kb-history-h" }, "历史版本"));
    ed.appendChild(el("ol", { id: "kb-history", className: "history", "aria-labelledby": "kb-history-h" }));
    split.appendChild(ed);
    sec.appendChild(split);
    $("main").appendChild(sec);

    search.addEventListener("submit", function (ev) { ev.preventDefault(); st.q = $("kb-search").value.trim(); load(); });
    $("kb-new-btn").addEventListener("click", openNew);
    form.addEventListener("submit", function (ev) { ev.preventDefault(); save(); });
    $("kb-retire-btn").addEventListener("click", function () {
      $("kb-confirm").hidden = false;
      $("kb-retire-yes").focus();
    });
    $("kb-retire-no").addEventListener("click", function () {
      $("kb-confirm").hidden = true;
      $("kb-retire-btn").focus();
    });
    $("kb-retire-yes").addEventListener("click", retire);
  }

  // --- showing the section (after staff.js has routed #answers / #questions) -----------------------------------
  function signedIn() { return !!token() && !$("signed-in").hidden; }
  function route() {
    if (!signedIn()) {
      st.me = null;
      if (st.built) { $("knowledge").hidden = true; $("tab-knowledge").hidden = true; }
      return;
    }
    if (!st.me) {
      st.me = "loading";
      api("GET", "/api/staff/me").then(function (me) { st.me = me; route(); }).catch(function () { st.me = null; });
      return;
    }
    if (st.me === "loading") return;
    build();
    $("tab-knowledge").hidden = false;
    var on = location.hash === "#knowledge";
    var wasOn = !$("knowledge").hidden;
    $("knowledge").hidden = !on;
    if (on) {
      ["answers", "questions", "handoff", "deadlines"].forEach(function (id) { if ($(id)) $(id).hidden = true; });
      ["tab-answers", "tab-questions", "tab-handoff", "tab-deadlines"].forEach(function (id) {
        if ($(id)) $(id).removeAttribute("aria-current");
      });
      $("tab-knowledge").setAttribute("aria-current", "page");
      if (!wasOn) {
        $("kb-hint").textContent = canEdit()
          ? "流程文档没有写、但学生常问的问题（国家和地方政策、其他部门的业务），在这里写好回答和依据。保存后学生下一次提问即可得到回答，不需要重新训练；停用的条目不再回答，历史保留。"
          : "流程文档没有写、但学生常问的问题的回答（只读）。如需新增或修改，请联系学校就业指导中心。";
        $("kb-new-btn").hidden = !canEdit();
        load();
        $("kb-h").focus();
      }
    } else {
      $("tab-knowledge").removeAttribute("aria-current");
    }
  }
  window.addEventListener("hashchange", function () { setTimeout(route, 0); });
  new MutationObserver(function () { setTimeout(route, 0); })
    .observe($("signed-in"), { attributes: true, attributeFilter: ["hidden"] });
  setTimeout(route, 0);

  // --- list ---------------------------------------------------------------------------------------------------
  function load() {
    var path = "/api/staff/knowledge" + (st.q ? "?q=" + encodeURIComponent(st.q) : "");
    return api("GET", path).then(function (out) {
      st.list = out.items;
      var live = out.items.filter(function (e) { return !e.retired; }).length;
      $("kb-count").textContent = "共" + out.total + "条（生效" + live + "条，已停用" + (out.total - live) + "条）";
      renderList();
    }).catch(function (e) { if (e.status !== 401) $("kb-count").textContent = e.message; });
  }
  function renderList() {
    var ul = $("kb-list");
    ul.textContent = "";
    st.list.forEach(function (e) {
      var li = el("li");
      var b = el("button", { type: "button" });
      b.appendChild(document.createTextNode(e.questions[0] || ""));
      if (e.retired) b.appendChild(el("span", { className: "badge retired" }, "已停用"));
      b.appendChild(el("span", { className: "key" }, "第" + e.id + "条 · " + e.questions.length + "种问法 · 第" + e.version + "版"));
      b.setAttribute("aria-current", st.current && st.current.id === e.id ? "true" : "false");
      b.addEventListener("click", function () { open(e.id); });
      li.appendChild(b);
      ul.appendChild(li);
    });
    if (!st.list.length) ul.appendChild(el("li", { className: "empty" }, st.q ? "没有找到匹配的知识。" : "知识库还是空的。"));
  }

  // --- editor -------------------------------------------------------------------------------------------------
  function clearErrors() {
    Object.keys(FIELD_IDS).forEach(function (k) {
      $(FIELD_IDS[k]).removeAttribute("aria-invalid");
      $(FIELD_IDS[k] + "-err").textContent = "";
    });
    $("kb-status").textContent = "";
  }
  function setEditable(editable) {
    ["kb-questions", "kb-answer", "kb-source"].forEach(function (id) {
      if (editable) $(id).removeAttribute("readonly"); else $(id).setAttribute("readonly", "");
    });
    $("kb-extra").hidden = !editable;
  }
  function openNew() {
    st.current = null;
    renderList();
    clearErrors();
    $("kb-editor").hidden = false;
    $("kb-editor-h").textContent = "新增知识";
    $("kb-meta").textContent = "保存后学生下一次提问即可得到这条回答。";
    $("kb-readonly").hidden = true;
    $("kb-retired-note").hidden = true;
    ["kb-questions", "kb-answer", "kb-source", "kb-note"].forEach(function (id) { $(id).value = ""; });
    setEditable(true);
    $("kb-retire-btn").hidden = true;
    $("kb-confirm").hidden = true;
    $("kb-history").textContent = "";
    $("kb-history-h").hidden = true;
    $("kb-questions").focus();
  }
  function open(id) {
    return api("GET", "/api/staff/knowledge/" + id).then(function (d) { show(d); $("kb-editor-h").focus(); })
      .catch(function (e) { if (e.status !== 401) $("kb-count").textContent = e.message; });
  }
  function show(d) {
    st.current = d;
    renderList();
    clearErrors();
    $("kb-editor").hidden = false;
    $("kb-editor-h").textContent = "第" + d.id + "条 · " + (d.questions[0] || "");
    $("kb-meta").textContent = "第" + d.version + "版 · " + fmtTime(d.updated_at) + " · " + d.updated_by;
    $("kb-questions").value = d.questions.join("\n");
    $("kb-answer").value = d.answer;
    $("kb-source").value = d.source;
    $("kb-note").value = "";
    $("kb-readonly").hidden = d.can_edit;
    $("kb-retired-note").hidden = !d.retired;
    setEditable(d.can_edit && !d.retired);
    $("kb-retire-btn").hidden = false;
    $("kb-confirm").hidden = true;
    $("kb-history-h").hidden = false;
    var ol = $("kb-history");
    ol.textContent = "";
    d.history.forEach(function (v) {
      var li = el("li");
      li.appendChild(el("div", { className: "muted" }, "第" + v.version + "版 · " + fmtTime(v.created_at) + " · " +
        v.author_id + (v.note ? " · " + v.note : "") + (v.retired ? " · 已停用" : "")));
      li.appendChild(el("div", { className: "text" }, "问法：" + v.questions.join(" / ")));
      li.appendChild(el("div", { className: "text" }, v.answer));
      li.appendChild(el("div", { className: "muted" }, "依据：" + v.source));
      ol.appendChild(li);
    });
  }
  function showErrors(e) {
    var first = null;
    (e.fields || []).forEach(function (f) {
      var id = FIELD_IDS[String(f.field).split(".")[0]];
      if (!id) return;
      $(id).setAttribute("aria-invalid", "true");
      var box = $(id + "-err");
      box.textContent = (box.textContent ? box.textContent + " " : "") + f.message;
      if (!first) first = $(id);
    });
    if (e.code === "duplicate_question") {
      $("kb-questions").setAttribute("aria-invalid", "true");
      $("kb-questions-err").textContent = e.message;
      first = $("kb-questions");
    }
    if (first) first.focus();
    return !!first;
  }
  function values() {
    return { questions: $("kb-questions").value.split("\n").map(function (q) { return q.trim(); })
               .filter(function (q) { return q; }),
             answer: $("kb-answer").value.trim(), source: $("kb-source").value.trim() };
  }
  function save() {
    clearErrors();
    var v = values();
    var local = [];
    if (!v.questions.length) local.push({ field: "questions", message: "请至少填写一种学生的问法。" });
    if (!v.answer) local.push({ field: "answer", message: "回答不能为空，请填写。" });
    if (!v.source) local.push({ field: "source", message: "请填写依据（官方文件名称或负责部门）。" });
    if (local.length) { showErrors({ fields: local }); return Promise.resolve(); }
    var cur = st.current;
    var req = cur
      ? api("PATCH", "/api/staff/knowledge/" + cur.id, { base_version: cur.version, questions: v.questions,
          answer: v.answer, source: v.source, note: $("kb-note").value.trim() })
      : api("POST", "/api/staff/knowledge", v);
    $("kb-save-btn").disabled = true;
    return req.then(function (d) {
      show(d);
      $("kb-status").textContent = (cur ? "已保存为第" + d.version + "版" : "已新增第" + d.id + "条") + "，学生下一次提问即生效。";
      $("kb-editor-h").focus();
      return load();
    }).catch(function (e) {
      if (e.status === 401) return;
      if (!showErrors(e)) $("kb-status").textContent = "未保存：" + e.message;
    }).then(function () { $("kb-save-btn").disabled = false; });
  }
  function retire() {
    var cur = st.current;
    if (!cur) return Promise.resolve();
    return api("DELETE", "/api/staff/knowledge/" + cur.id + "?base_version=" + cur.version).then(function (d) {
      show(d);
      $("kb-status").textContent = "已停用第" + d.id + "条，学生下一次提问起不再回答。";
      $("kb-editor-h").focus();
      return load();
    }).catch(function (e) {
      $("kb-confirm").hidden = true;
      if (e.status !== 401) $("kb-status").textContent = "未停用：" + e.message;
    });
  }
})();
