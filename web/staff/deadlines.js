// Staff page, 截止提醒 (issue 15 §1): the career center sets a deadline (e.g. destination changes close on a date)
// and an audience; the students it concerns get a reminder at once in the widget and in WeChat, and again
// shortly before the date if it still concerns them. Self-contained: it adds its own tab (#deadlines) and
// section for school staff only; the sign-in, the token and the API client are staff.js's (window.ZZStaff). The
// backend refuses everyone else (403).
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var st = { me: null, meta: null, built: false, shown: null };

  var token = window.ZZStaff.token, api = window.ZZStaff.api, el = window.ZZStaff.el;  // staff.js
  var table = window.ZZStaff.table;
  function cnDate(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    return m ? m[1] + "年" + parseInt(m[2], 10) + "月" + parseInt(m[3], 10) + "日" : "";
  }
  function todayIso() {
    var d = new Date();
    return d.getFullYear() + "-" + ("0" + (d.getMonth() + 1)).slice(-2) + "-" + ("0" + d.getDate()).slice(-2);
  }
  function field(id, labelText, control, hint) { return window.ZZStaff.field(id, labelText, control, hint, "dl-field"); }

  // --- the tab and the section (built once, for school staff) ------------------------------------------------
  function build() {
    if (st.built) return;
    st.built = true;
    var tab = el("a", { href: "#deadlines", id: "tab-deadlines" }, "截止提醒");
    $("tabs").appendChild(tab);
    var sec = el("section", { id: "deadlines", className: "deadlines", "aria-labelledby": "dl-h" });
    sec.hidden = true;
    sec.appendChild(el("h2", { id: "dl-h", tabindex: "-1" }, "截止提醒"));
    sec.appendChild(el("p", { className: "hint", id: "dl-hint" }));

    var card = el("div", { className: "card dl-new" });
    card.appendChild(el("h3", { id: "dl-new-h" }, "新建截止提醒"));
    var form = el("form", { id: "dl-form", novalidate: "", "aria-labelledby": "dl-new-h" });
    var title = el("input", { type: "text", maxlength: "60", autocomplete: "off" });
    form.appendChild(field("dl-title", "截止事项", title, "学生看到的提醒标题，例如“毕业去向修改截止”。"));
    var due = el("input", { type: "date", min: todayIso() });
    form.appendChild(field("dl-due", "截止日期", due));
    form.appendChild(field("dl-audience", "提醒哪些学生", el("select")));
    form.appendChild(field("dl-college", "学院", el("select")));
    var buttons = el("div", { className: "row buttons" });
    buttons.appendChild(el("button", { type: "button", id: "dl-preview-btn", className: "secondary" }, "查看涉及的学生"));
    buttons.appendChild(el("button", { type: "submit", id: "dl-send-btn" }, "发送提醒"));
    form.appendChild(buttons);
    form.appendChild(el("p", { id: "dl-status", className: "status", role: "status", "aria-live": "polite" }));
    card.appendChild(form);
    var pv = el("div", { id: "dl-preview", className: "dl-preview" });
    pv.hidden = true;
    pv.appendChild(el("h4", { id: "dl-preview-h", tabindex: "-1" }));
    pv.appendChild(el("div", { className: "table-wrap", id: "dl-preview-list" }));
    card.appendChild(pv);
    sec.appendChild(card);

    var listCard = el("div", { className: "card dl-list" });
    listCard.appendChild(el("h3", { id: "dl-list-h" }, "已设置的截止提醒"));
    listCard.appendChild(el("div", { className: "table-wrap", id: "dl-table" }));
    var detail = el("div", { id: "dl-detail" });
    detail.hidden = true;
    detail.appendChild(el("h4", { id: "dl-detail-h", tabindex: "-1" }));
    detail.appendChild(el("div", { className: "table-wrap", id: "dl-detail-list" }));
    listCard.appendChild(detail);
    sec.appendChild(listCard);
    $("main").appendChild(sec);

    form.addEventListener("submit", function (ev) { ev.preventDefault(); create(); });
    $("dl-preview-btn").addEventListener("click", preview);
    ["dl-audience", "dl-college"].forEach(function (id) {
      $(id).addEventListener("change", function () { $("dl-preview").hidden = true; });
    });
  }
  function fillForm(meta) {
    var aud = $("dl-audience"), col = $("dl-college");
    if (aud.options.length) return;
    Object.keys(meta.audiences).forEach(function (k) { aud.appendChild(el("option", { value: k }, meta.audiences[k])); });
    col.appendChild(el("option", { value: "" }, "全部学院"));
    meta.colleges.forEach(function (c) { col.appendChild(el("option", { value: c.code }, c.name)); });
    $("dl-hint").textContent = "设置截止日期后，涉及的学生会立即在智能咨询对话框（以及已绑定的微信）收到提醒；截止前" +
      meta.remind_days_before + "天，仍未完成的学生会再收到一次提醒。已完成的学生不会收到。";
  }

  // --- showing the section (staff.js routes #answers / #questions first, then this runs) -----------------------
  function signedIn() { return !!token() && !$("signed-in").hidden; }
  function route() {
    if (!signedIn()) {
      st.me = null;
      if (st.built) { $("deadlines").hidden = true; $("tab-deadlines").hidden = true; }
      return;
    }
    if (!st.me) {
      st.me = "loading";
      api("GET", "/api/staff/me").then(function (me) { st.me = me; route(); })
        .catch(function () { st.me = null; });
      return;
    }
    if (st.me === "loading") return;
    if (st.me.role !== "school") {  // the career center's task; counselors do not see the tab
      if (st.built) { $("deadlines").hidden = true; $("tab-deadlines").hidden = true; }
      return;
    }
    build();
    $("tab-deadlines").hidden = false;
    var on = location.hash === "#deadlines";
    var wasOn = !$("deadlines").hidden;
    $("deadlines").hidden = !on;
    if (on) {
      ["answers", "questions", "handoff"].forEach(function (id) { if ($(id)) $(id).hidden = true; });
      ["tab-answers", "tab-questions", "tab-handoff"].forEach(function (id) {
        if ($(id)) $(id).removeAttribute("aria-current");
      });
      $("tab-deadlines").setAttribute("aria-current", "page");
      if (!wasOn) { load(); $("dl-h").focus(); }
    } else {
      $("tab-deadlines").removeAttribute("aria-current");
    }
  }
  window.addEventListener("hashchange", function () { setTimeout(route, 0); });
  new MutationObserver(function () { setTimeout(route, 0); })
    .observe($("signed-in"), { attributes: true, attributeFilter: ["hidden"] });
  setTimeout(route, 0);

  // --- list, preview, create, who got it ------------------------------------------------------------------------
  var STUDENT_COLS = [["学号", function (s) { return s.id; }], ["姓名", function (s) { return s.name; }],
    ["学院", function (s) { return s.college; }]];
  var WECHAT = { pending: "待发送", sent: "已发送", skipped: "未发送（未绑定或已关闭）", failed: "发送失败" };

  function load() {
    return api("GET", "/api/staff/notices/deadlines").then(function (out) {
      st.meta = out;
      fillForm(out);
      table($("dl-table"), "共" + out.deadlines.length + "条", [
        ["截止事项", function (d) { return d.title; }],
        ["截止日期", function (d) { return cnDate(d.due_on); }],
        ["提醒对象", function (d) { return d.audience_label; }],
        ["学院", function (d) { return d.college || "全部学院"; }],
        ["已提醒", function (d) { return d.students + "人"; }],
        ["", function (d) {
          var b = el("button", { type: "button", className: "small secondary" }, "查看学生");
          b.setAttribute("aria-label", "查看“" + d.title + "”提醒的学生");
          b.addEventListener("click", function () { showDetail(d.id); });
          return b;
        }],
      ], out.deadlines, "还没有设置截止提醒。");
    }).catch(function (e) { if (e.status !== 401) $("dl-status").textContent = e.message; });
  }
  function clearErrors() {
    ["dl-title", "dl-due", "dl-audience", "dl-college"].forEach(function (id) {
      $(id).removeAttribute("aria-invalid");
      $(id + "-err").textContent = "";
    });
  }
  function showErrors(e) {
    var first = null;
    (e.fields || []).forEach(function (f) {
      var id = { title: "dl-title", due_on: "dl-due", audience: "dl-audience", college_code: "dl-college" }[f.field];
      if (!id) return;
      $(id).setAttribute("aria-invalid", "true");
      $(id + "-err").textContent = f.message;
      if (!first) first = $(id);
    });
    if (first) first.focus();
    return !!first;
  }
  function values() {
    return { title: $("dl-title").value.trim(), due_on: $("dl-due").value, audience: $("dl-audience").value,
             college_code: $("dl-college").value || null };
  }
  function checkLocally(v) {
    var errs = [];
    if (v.title.length < 2) errs.push({ field: "title", message: "请填写截止事项（至少2个字），例如“毕业去向修改截止”。" });
    if (!v.due_on) errs.push({ field: "due_on", message: "请选择截止日期。" });
    else if (v.due_on < todayIso()) errs.push({ field: "due_on", message: "截止日期不能早于今天。" });
    return errs;
  }
  function preview() {
    clearErrors();
    var v = values();
    var q = "audience=" + encodeURIComponent(v.audience) + (v.college_code ? "&college_code=" + encodeURIComponent(v.college_code) : "");
    $("dl-status").textContent = "";
    return api("GET", "/api/staff/notices/deadlines/preview?" + q).then(function (out) {
      var scope = (v.college_code ? $("dl-college").selectedOptions[0].textContent : "全部学院") + "，" + out.audience_label;
      $("dl-preview-h").textContent = "涉及的学生：" + out.count + "人（" + scope + "）";
      table($("dl-preview-list"), out.count > out.students.length ? "列出前" + out.students.length + "人" : "共" + out.count + "人",
        STUDENT_COLS, out.students, "目前没有涉及的学生，发送后不会有人收到提醒。");
      $("dl-preview").hidden = false;
      $("dl-preview-h").focus();
    }).catch(function (e) { if (!showErrors(e)) $("dl-status").textContent = e.message; });
  }
  function create() {
    clearErrors();
    var v = values();
    var local = checkLocally(v);
    if (local.length) { showErrors({ fields: local }); return Promise.resolve(); }
    var btn = $("dl-send-btn");
    btn.disabled = true;
    $("dl-status").textContent = "正在发送……";
    return api("POST", "/api/staff/notices/deadlines", v).then(function (out) {
      $("dl-status").textContent = "已设置“" + out.title + "”（" + cnDate(out.due_on) + "截止），已提醒" + out.students + "名学生。";
      $("dl-title").value = "";
      $("dl-preview").hidden = true;
      return load().then(function () { return showDetail(out.id); });
    }).catch(function (e) {
      if (!showErrors(e)) $("dl-status").textContent = "未发送：" + e.message;
      else $("dl-status").textContent = "";
    }).then(function () { btn.disabled = false; });
  }
  function showDetail(id) {
    return api("GET", "/api/staff/notices/deadlines/" + id).then(function (d) {
      $("dl-detail-h").textContent = "“" + d.title + "”提醒的学生（" + d.students + "人）";
      table($("dl-detail-list"), "截止日期：" + cnDate(d.due_on) + "；" + (d.college || "全部学院") + "，" + d.audience_label,
        STUDENT_COLS.concat([
          ["对话框", function (s) { return s.read ? "已读" : "未读"; }],
          ["微信", function (s) { return WECHAT[s.wechat] || s.wechat; }],
        ]), d.recipients, "没有学生收到这条提醒（设置时没有涉及的学生）。");
      $("dl-detail").hidden = false;
      $("dl-detail-h").focus();
    }).catch(function (e) { if (e.status !== 401) $("dl-status").textContent = e.message; });
  }
})();
