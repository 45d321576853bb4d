// Staff page, 人工咨询 (issue 15 §2): the queue of conversations handed to a person, take / reply / close, and
// the messages students left outside office hours. Its own tab (#handoff) and section; the sign-in, the token
// and the API client are staff.js's (window.ZZStaff). The backend decides the scope
// (counselors: their college; the career center: all, anonymous visitors included).
(function () {
  "use strict";
  var LIST_EVERY = 3000;  // the list and the open conversation are refreshed this often
  var $ = function (id) { return document.getElementById(id); };
  var st = { view: "queue", page: 1, pages: 1, current: null, shownMsgs: "", timer: null, busy: false, me: null };
  var STATES = { waiting: "等待接入", active: "进行中", closed: "已结束", ticket_open: "待回复留言",
                 answered: "已回复", cancelled: "已取消", ticket_draft: "留言中" };

  var token = window.ZZStaff.token, api = window.ZZStaff.api, el = window.ZZStaff.el;  // staff.js
  function fmt(iso) { return iso ? iso.replace("T", " ").slice(5, 16) : ""; }
  function who(s) {
    return s.student ? s.student.name + "（" + s.student.id + "，" + s.student.college + "）"
      : (s.channel === "wechat" ? "微信用户（未绑定）" : "未登录访客");
  }
  function status(msg) { $("hq-status").textContent = msg || ""; }

  // --- showing the section (staff.js routes #answers / #questions; this script adds #handoff) --------------
  function signedIn() { return !!token() && !$("signed-in").hidden; }
  function route() {
    var on = signedIn() && location.hash === "#handoff";
    $("handoff").hidden = !on;
    if (on) {
      $("answers").hidden = true;
      $("questions").hidden = true;
      $("tab-answers").removeAttribute("aria-current");
      $("tab-handoff").setAttribute("aria-current", "page");
      start();
    } else {
      $("tab-handoff").removeAttribute("aria-current");
      stop();
      if (!signedIn()) { st.current = null; st.shownMsgs = ""; $("hq-detail").hidden = true; }
    }
  }
  function start() {
    if (st.timer) return;
    st.timer = setInterval(refresh, LIST_EVERY);
    // who is signed in: which conversations are this teacher's
    api("GET", "/api/staff/me").then(function (me) { st.me = me; refresh(); })
      .catch(function (e) { status(e.message); });
  }
  function stop() {
    if (st.timer) { clearInterval(st.timer); st.timer = null; }
    st.me = null;
  }
  window.addEventListener("hashchange", function () { setTimeout(route, 0); });
  new MutationObserver(function () { setTimeout(route, 0); })
    .observe($("signed-in"), { attributes: true, attributeFilter: ["hidden"] });

  // the tab shows how many wait, on every tab (checked every 10 s while signed in)
  function badge(c) {
    var n = (c && c.waiting) || 0;
    $("tab-handoff").textContent = "人工咨询" + (n ? "（" + n + "人等待）" : "");
  }
  setInterval(function () {
    if (signedIn() && location.hash !== "#handoff") {
      api("GET", "/api/staff/handoff?view=queue").then(function (out) { badge(out.counts); }).catch(function () {});
    }
  }, 10000);

  // --- the list ---------------------------------------------------------------------------------------------
  function refresh() {
    if (!signedIn()) return stop();
    if (!st.me) return;
    loadList();
    if (st.current) loadDetail(st.current, false);
  }
  function loadList() {
    return api("GET", "/api/staff/handoff?view=" + st.view + "&page=" + st.page).then(function (out) {
      var c = out.counts || {};
      // every session is reachable: the list is paged (signed-in students first in the queue and tickets)
      st.pages = out.pages || 1;
      if (st.page > st.pages) { st.page = st.pages; return loadList(); }
      $("hq-pager").hidden = st.pages <= 1;
      $("hq-page").textContent = "第 " + st.page + " / " + st.pages + " 页，共 " + out.total + " 个会话";
      $("hq-prev").disabled = st.page <= 1;
      $("hq-next").disabled = st.page >= st.pages;
      badge(c);
      $("hq-hours").textContent = "在线人工服务时间：" + out.office_hours.label + "（现在" +
        (out.office_hours.open ? "在服务时间内" : "不在服务时间，学生可以留言") + "）";
      $("hq-count-queue").textContent = String((c.waiting || 0) + (c.active || 0));
      $("hq-count-tickets").textContent = String(c.ticket_open || 0);
      var ul = $("hq-list");
      ul.textContent = "";
      if (!out.sessions.length) {
        ul.appendChild(el("li", { className: "muted" }, st.view === "tickets" ? "没有待回复的留言。" :
          (st.view === "queue" ? "目前没有等待人工服务的学生。" : "还没有已结束的会话。")));
      }
      out.sessions.forEach(function (s) {
        var b = el("button", { type: "button", "data-id": String(s.id), className: "hq-item" });
        b.appendChild(el("span", { className: "badge hq-" + s.state }, STATES[s.state] || s.state));
        b.appendChild(el("strong", {}, " " + who(s)));
        b.appendChild(el("span", { className: "key" }, fmt(s.created_at) + (s.staff_name ? " · " + s.staff_name : "")
          + (s.last_student_text ? " · " + s.last_student_text : "")));
        if (st.current === s.id) b.setAttribute("aria-current", "true");
        b.addEventListener("click", function () { loadDetail(s.id, true); });
        var li = el("li");
        li.appendChild(b);
        ul.appendChild(li);
      });
    }).catch(function (e) { if (e.status !== 401) status(e.message); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("#hq-views button"), function (b) {
    b.addEventListener("click", function () {
      st.view = b.getAttribute("data-view");
      st.page = 1;
      Array.prototype.forEach.call(document.querySelectorAll("#hq-views button"), function (x) {
        x.setAttribute("aria-pressed", x === b ? "true" : "false");
      });
      loadList();
    });
  });

  $("hq-prev").addEventListener("click", function () { if (st.page > 1) { st.page -= 1; loadList(); } });
  $("hq-next").addEventListener("click", function () { if (st.page < st.pages) { st.page += 1; loadList(); } });

  // --- one conversation -----------------------------------------------------------------------------------
  function loadDetail(id, focus) {
    return api("GET", "/api/staff/handoff/" + id).then(function (d) {
      st.current = id;
      render(d, focus);
    }).catch(function (e) {
      if (e.status === 404) { st.current = null; $("hq-detail").hidden = true; }
      status(e.message);
    });
  }
  function line(cls, label, text, at) {
    var li = el("li", { className: cls });
    li.appendChild(el("span", { className: "key" }, label + (at ? " · " + fmt(at) : "")));
    li.appendChild(el("p", {}, text));
    return li;
  }
  function render(d, focus) {
    var me = st.me ? st.me.id : "";
    $("hq-detail").hidden = false;
    $("hq-title").textContent = who(d) + " · " + (STATES[d.state] || d.state);
    $("hq-meta").textContent = (d.kind === "ticket" ? "留言" : "人工对话") + " · " + (d.channel === "wechat" ? "微信" : "网页") +
      " · 发起于 " + fmt(d.created_at) + (d.staff_name ? " · 接待：" + d.staff_name : "");
    var tr = $("hq-transcript");
    tr.textContent = "";
    (d.transcript || []).forEach(function (x) { tr.appendChild(line("hq-" + x.who, x.who === "bot" ? "智能助手" : "学生", x.text)); });
    if (!(d.transcript || []).length) tr.appendChild(el("li", { className: "muted" }, "（没有之前的对话）"));
    var sig = JSON.stringify(d.messages.map(function (m) { return [m.id, m.wechat_state]; }));
    if (sig !== st.shownMsgs || focus) {
      st.shownMsgs = sig;
      var ml = $("hq-messages");
      ml.textContent = "";
      d.messages.forEach(function (m) {
        // bot: what the assistant answered while the student was queued (the student has already seen it)
        var label = { student: "学生", staff: "老师", bot: "智能助手（自动回答，学生已看到）" }[m.sender] || "系统";
        if (m.wechat_state === "failed") label += "（微信未送达）";
        ml.appendChild(line("hq-" + m.sender, label, m.text, m.at));
      });
      ml.scrollTop = ml.scrollHeight;
    }
    var mine = d.state === "active" && d.staff_id === me;
    $("hq-take").hidden = d.state !== "waiting";
    $("hq-close").hidden = !(d.state === "waiting" || mine || (d.state === "active" && st.me && st.me.role === "school"));
    $("hq-reply-form").hidden = !(mine || d.state === "ticket_open");
    $("hq-reply-label").textContent = d.state === "ticket_open" ? "回复这条留言（只能回复一次，学生会在消息通知里收到）" : "回复学生";
    $("hq-held-note").textContent = d.state === "active" && !mine ? "这个会话由" + (d.staff_name || "其他老师") + "接待。" : "";
    $("hq-held-note").hidden = !$("hq-held-note").textContent;
    if (focus) $("hq-title").focus();
  }
  function act(path, body, okMsg) {
    if (st.busy || !st.current) return;
    st.busy = true;
    status("");
    api("POST", "/api/staff/handoff/" + st.current + path, body).then(function (d) {
      render(d, false);
      status(okMsg);
      if (body) { $("hq-text").value = ""; $("hq-text").focus(); }
      loadList();
    }).catch(function (e) {
      status(e.message);
      loadDetail(st.current, false);
      loadList();
    }).then(function () { st.busy = false; });
  }
  $("hq-take").addEventListener("click", function () { act("/take", null, "已接入，学生会看到“老师已接入”。"); });
  $("hq-close").addEventListener("click", function () { act("/close", null, "已结束，智能助手继续为学生服务。"); });
  $("hq-reply-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("hq-text").value.trim();
    if (!text) { status("请输入回复内容。"); $("hq-text").focus(); return; }
    act("/reply", { text: text }, "已发送。");
  });

  route();
}());
