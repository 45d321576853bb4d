/*
 * 智能咨询 chat widget. Embed with ONE tag:
 *   <script src="https://host/widget/widget.js" data-rasa-url="https://host:5005"
 *           data-backend-url="https://host" defer></script>
 * Attributes (all optional):
 *   data-rasa-url     Rasa server base URL (default: same host, port data-rasa-port)
 *   data-rasa-port    port of that default (default 5005; the demo back end fills it from RASA_PORT)
 *   data-backend-url  school-platform backend (default: this page's origin)
 *   data-token-key    localStorage key holding the student's bearer token (default "zz.token")
 *   data-open         "1" to open the panel on load
 * Page API: window.ZhinengZixun.open() / close() / setToken(token) / send(text)
 * Security: bot and user text are only ever inserted as text nodes; http(s) URLs become links.
 */
(function () {
  "use strict";
  if (window.ZhinengZixun) return;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var ds = (script && script.dataset) || {};
  var base = script ? script.src.replace(/[^/]*$/, "") : "";
  var cfg = {
    rasaUrl: (ds.rasaUrl || (location.protocol + "//" + location.hostname + ":" + (ds.rasaPort || "5005")))
      .replace(/\/$/, ""),
    backendUrl: (ds.backendUrl || location.origin).replace(/\/$/, ""),
    tokenKey: ds.tokenKey || "zz.token",
    timeoutMs: 20000,
  };
  var TEXT = {
    title: "智能咨询",
    subtitle: "毕业生手续助手",
    open: "打开智能咨询",
    close: "关闭智能咨询",
    input: "输入您的问题，按 Enter 发送",
    send: "发送",
    typing: "正在输入…",
    down: "暂时无法连接智能咨询助手，请稍后重试。您输入的内容已保留在输入框中。",
    expired: "您的登录已过期，请重新登录后再查询个人办理进度。",
    welcome: "您好，我是毕业生手续“智能咨询”助手。可以问我毕业去向登记、户档信息登记、档案邮寄、信息填错后怎么修改；登录后还可以查询您本人的办理进度。",
    you: "我",
    bot: "助手",
  };
  var SUGGESTIONS = [
    { title: "我的办理进度", payload: "我的办理进度" },
    { title: "档案邮寄怎么申请", payload: "档案邮寄怎么申请" },
    { title: "签了新单位怎么办", payload: "我签了新的单位，原来那家不去了，怎么办" },
  ];

  // --- identity and storage ------------------------------------------------------------------------
  function readToken() {
    try { return localStorage.getItem(cfg.tokenKey) || ""; } catch (e) { return ""; }
  }
  function claims(token) {
    try {
      var p = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      var json = decodeURIComponent(Array.prototype.map.call(atob(p), function (c) {
        return "%" + ("00" + c.charCodeAt(0).toString(16)).slice(-2);
      }).join(""));
      return JSON.parse(json);
    } catch (e) { return null; }
  }
  function validToken() {
    var t = readToken();
    if (!t) return "";
    var c = claims(t);
    // expiry is the server's to judge (the chat channel tells the holder of an expired token itself): a device
    // whose clock runs ahead would otherwise sign a student out with a valid token (issue 24's date-shift run)
    if (!c || !c.sub) return "";
    return t;
  }
  function anonId() {
    var k = "zz.sender", v;
    try { v = sessionStorage.getItem(k); } catch (e) { v = null; }
    if (!v) {
      v = "web-" + Math.random().toString(36).slice(2, 12) + Date.now().toString(36);
      try { sessionStorage.setItem(k, v); } catch (e) { /* private mode */ }
    }
    return v;
  }
  function historyKey() {
    var t = validToken(), c = t && claims(t);
    return "zz.history." + (c ? (c.role || "student") + ":" + c.sub : "anon:" + anonId());
  }
  function loadHistory() {
    try { return JSON.parse(sessionStorage.getItem(historyKey()) || "[]"); } catch (e) { return []; }
  }
  function saveHistory(items) {
    try { sessionStorage.setItem(historyKey(), JSON.stringify(items.slice(-100))); } catch (e) { /* full */ }
  }

  // --- DOM helpers ---------------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") n.textContent = attrs[k];
      else if (k === "className") n.className = attrs[k];
      else n.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) { n.appendChild(c); });
    return n;
  }
  var URL_RE = /(https?:\/\/[^\s<>"'，。；！？、）)]+)/g;
  function richText(text) {
    // text nodes only; URLs become <a> with the URL as text (no HTML from the bot is ever interpreted)
    var frag = document.createDocumentFragment(), last = 0, m;
    URL_RE.lastIndex = 0;
    while ((m = URL_RE.exec(text)) !== null) {
      if (m.index > last) frag.appendChild(document.createTextNode(text.slice(last, m.index)));
      frag.appendChild(el("a", { href: m[1], target: "_blank", rel: "noopener noreferrer", text: m[1] }));
      last = m.index + m[1].length;
    }
    if (last < text.length) frag.appendChild(document.createTextNode(text.slice(last)));
    return frag;
  }

  // --- UI ------------------------------------------------------------------------------------------
  if (base && !document.querySelector('link[data-zz-widget]')) {
    document.head.appendChild(el("link", { rel: "stylesheet", href: base + "widget.css", "data-zz-widget": "1" }));
  }
  var root = el("div", { className: "zz-root", id: "zz-widget" });
  var launcher = el("button", { type: "button", className: "zz-launcher", "aria-label": TEXT.open,
    "aria-expanded": "false", "aria-controls": "zz-panel" });
  var icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24"); icon.setAttribute("width", "18"); icon.setAttribute("height", "18");
  icon.setAttribute("aria-hidden", "true"); icon.setAttribute("focusable", "false");
  var path = document.createElementNS("http://www.w3.org/2000/svg", "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z");
  icon.appendChild(path);
  launcher.appendChild(icon);
  launcher.appendChild(el("span", { text: TEXT.title }));
  var panel = el("section", { className: "zz-panel", id: "zz-panel", role: "dialog", "aria-modal": "false",
    "aria-label": TEXT.title + "对话", hidden: "" });
  var closeBtn = el("button", { type: "button", className: "zz-close", "aria-label": TEXT.close, text: "×" });
  var header = el("header", { className: "zz-header" }, [
    el("div", {}, [el("strong", { text: TEXT.title }), el("span", { className: "zz-sub", text: TEXT.subtitle })]),
    closeBtn,
  ]);
  var log = el("div", { className: "zz-log", role: "log", "aria-live": "polite", "aria-label": "对话记录",
    tabindex: "0" });
  var typing = el("div", { className: "zz-typing", role: "status", "aria-label": TEXT.typing, hidden: "" }, [
    el("span", { "aria-hidden": "true" }), el("span", { "aria-hidden": "true" }), el("span", { "aria-hidden": "true" }),
    el("em", { text: TEXT.typing }),
  ]);
  var alertBox = el("div", { className: "zz-alert", role: "alert", hidden: "" });
  var input = el("textarea", { className: "zz-input", rows: "1", maxlength: "1000", "aria-label": TEXT.input,
    placeholder: "请输入您的问题…" });
  var sendBtn = el("button", { type: "button", className: "zz-send", "aria-label": TEXT.send, text: TEXT.send });
  var form = el("div", { className: "zz-compose" }, [input, sendBtn]);
  panel.appendChild(header); panel.appendChild(log); panel.appendChild(typing);
  panel.appendChild(alertBox); panel.appendChild(form);
  root.appendChild(panel); root.appendChild(launcher);

  var history = [];
  var busy = false;

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function renderItem(item, live) {
    var who = item.from === "user" ? "user" : (item.from === "staff" ? "staff" : "bot");
    var bubble = el("div", { className: "zz-msg zz-" + who + (who === "staff" ? " zz-bot" : "") });
    bubble.appendChild(el("span", { className: who === "staff" ? "zz-who" : "zz-vh",
      text: (who === "user" ? TEXT.you : who === "staff" ? (item.name || HO.teacher) : TEXT.bot) + "：" }));
    if (item.text) bubble.appendChild(el("div", { className: "zz-text" }, [richText(String(item.text))]));
    if (item.progress) bubble.appendChild(progressBar(item.progress));
    if (item.image && /^https?:\/\//.test(item.image)) {
      bubble.appendChild(el("img", { src: item.image, alt: "图片", className: "zz-img" }));
    }
    log.appendChild(bubble);
    if (item.fb) log.appendChild(feedbackUI(item));
    if (item.buttons && item.buttons.length && live) {
      var group = el("div", { className: "zz-quick", role: "group", "aria-label": "快捷回复" });
      item.buttons.forEach(function (b) {
        var btn = el("button", { type: "button", className: "zz-chip", text: String(b.title || b.payload || "") });
        btn.addEventListener("click", function () {
          if (busy) return;
          send(String(b.payload || b.title), String(b.title || b.payload));
        });
        group.appendChild(btn);
      });
      log.appendChild(group);
    }
    scrollDown();
  }

  function addItem(item) {
    history.push(item);
    saveHistory(history);
    log.querySelectorAll(".zz-quick").forEach(function (q) { q.remove(); });
    renderItem(item, true);
  }

  function redraw() {
    log.textContent = "";
    history = loadHistory();
    if (!history.length) {
      renderItem({ from: "bot", text: TEXT.welcome, buttons: SUGGESTIONS }, true);
      return;
    }
    history.forEach(function (item, i) { renderItem(item, i === history.length - 1); });
  }

  function showAlert(msg) {
    alertBox.textContent = msg;
    alertBox.hidden = !msg;
  }

  function setBusy(b) {
    busy = b;
    typing.hidden = !b;
    sendBtn.disabled = b;
    if (b) scrollDown();
  }

  function send(payload, shown) {
    var text = String(payload || "").trim();
    if (!text || busy) return Promise.resolve(false);
    var token = validToken();
    if (readToken() && !token) showAlert(TEXT.expired); else showAlert("");
    var userItem = { from: "user", text: shown || text };
    addItem(userItem);
    setBusy(true);
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = ctrl && setTimeout(function () { ctrl.abort(); }, cfg.timeoutMs);
    return fetch(cfg.rasaUrl + "/webhooks/rest/webhook", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: anonId(), message: text, metadata: token ? { token: token } : {} }),
      signal: ctrl ? ctrl.signal : undefined,
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) {
        if (!r.ok) {
          var err = new Error("http " + r.status);
          err.userMessage = body && body.message;
          throw err;
        }
        return body || [];
      });
    }).then(function (msgs) {
      var items = [];
      msgs.forEach(function (m) {
        var t = m.text || (m.custom && typeof m.custom.text === "string" ? m.custom.text : "");
        if (t || m.image || (m.buttons && m.buttons.length)) {
          items.push({ from: "bot", text: t, image: m.image, buttons: m.buttons || [] });
        } else if (isProgress(m.custom)) {
          attachProgress(items, m.custom);
        }
        if (m.custom && m.custom.handoff) handoffUpdate(m.custom.handoff);
      });
      // 👍/👎 under the turn's answer (its last message), about all of the turn's text
      var answer = items.map(function (i) { return i.text || ""; }).join("\n").trim();
      if (items.length && answer && !handoffActive()) {
        items[items.length - 1].fb = { id: "m" + Date.now().toString(36) + Math.random().toString(36).slice(2, 8),
          q: shown || text, a: answer.slice(0, 4000) };
      }
      items.forEach(addItem);
      return true;
    }).catch(function (e) {
      // the assistant could not be reached: take the message back and keep the typed text
      var i = history.lastIndexOf(userItem);
      if (i >= 0) { history.splice(i, 1); saveHistory(history); }
      redraw();
      if (!input.value.trim() && !shown) input.value = text;
      showAlert(e && e.userMessage ? e.userMessage + "（您输入的内容已保留）" : TEXT.down);
      return false;
    }).then(function (ok) {
      if (timer) clearTimeout(timer);
      setBusy(false);
      input.focus();
      return ok;
    });
  }

  // --- status at a glance (issue 15 §3): the job site's five-step progress bar from the status payload -------
  var PG = { done: "已完成", current: "当前步骤", rejected: "未通过", todo: "未开始", mailing: "档案邮寄",
    ems: "EMS单号", steps: "办理步骤", group: "办理进度一览" };
  function isProgress(c) {
    return !!(c && c.type === "progress" && Array.isArray(c.records));
  }
  function attachProgress(items, payload) {
    // drawn inside the status answer's bubble (its text stays the same for screen readers and WeChat)
    var last = items[items.length - 1];
    if (last && !last.progress) last.progress = payload;
    else items.push({ from: "bot", text: "", progress: payload, buttons: [] });
  }
  function progressBar(p) {
    var box = el("div", { className: "zz-pg", role: "group", "aria-label": PG.group });
    (p.records || []).forEach(function (r) {
      var title = String(r.title || "");
      var rec = el("div", { className: "zz-pg-rec" }, [
        el("p", { className: "zz-pg-title" }, [
          el("strong", { text: title }), document.createTextNode("：" + String(r.state_label || "")),
        ]),
      ]);
      var ol = el("ol", { className: "zz-pg-steps", "aria-label": title + PG.steps });
      (r.steps || []).forEach(function (s) {
        var status = ["done", "current", "rejected", "todo"].indexOf(s.status) >= 0 ? s.status : "todo";
        var li = el("li", { className: "zz-pg-step zz-pg-" + status }, [
          el("span", { className: "zz-pg-dot", "aria-hidden": "true", text: status === "done" ? "✓" :
            status === "rejected" ? "!" : String(s.n || "") }),
          el("span", { className: "zz-pg-label", text: String(s.label || "") }),
          el("span", { className: "zz-vh", text: "（第" + String(s.n || "") + "步，" + PG[status] + "）" }),
        ]);
        if (status === "current" || status === "rejected") li.setAttribute("aria-current", "step");
        ol.appendChild(li);
      });
      rec.appendChild(ol);
      if (r.rejection) {
        rec.appendChild(el("p", { className: "zz-pg-reject", role: "note" }, [
          el("strong", { text: String(r.rejection.by || "") + "审核未通过原因：" }),
          document.createTextNode(String(r.rejection.reason || "")),
        ]));
      }
      box.appendChild(rec);
    });
    var m = p.mailing;
    if (m && m.label) {
      var line = el("p", { className: "zz-pg-mail zz-pg-mail-" + String(m.state || "") }, [
        el("strong", { text: PG.mailing + "：" }), document.createTextNode(String(m.label)),
      ]);
      if (m.ems_no) {
        line.appendChild(document.createTextNode("，" + PG.ems + " "));
        line.appendChild(el("span", { className: "zz-pg-ems", text: String(m.ems_no) }));
      }
      box.appendChild(line);
    }
    return box;
  }

  // --- notices (issue 15 §1): at a visit, the student's unread notices first, marked read once shown --------
  var NT = { region: "新通知", more: "条新通知", wechat: "在微信里接收办理进度通知", unbound: "绑定微信后可在微信里接收通知",
    saveFailed: "设置没有保存成功，请稍后再试。" };
  var noticeBox = null;
  function studentToken() {
    var t = validToken(), c = t && claims(t);
    return c && (c.role || "student") === "student" ? t : "";
  }
  function backendCall(method, path, token, body) {
    return fetch(cfg.backendUrl + path, {
      method: method,
      headers: Object.assign({ Authorization: "Bearer " + token }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    }).then(function (r) {
      if (!r.ok) throw new Error("http " + r.status);
      return r.json();
    });
  }
  function wechatSetting(token, setting) {
    var wrap = el("div", { className: "zz-nt-setting" });
    if (!setting || !setting.bound) {
      wrap.appendChild(el("span", { text: NT.unbound }));
      return wrap;
    }
    var box = el("input", { type: "checkbox", id: "zz-nt-wechat" });
    box.checked = !!setting.enabled;
    var status = el("span", { className: "zz-nt-status", role: "status" });
    box.addEventListener("change", function () {
      var want = box.checked;
      box.disabled = true;
      backendCall("PUT", "/api/me/notices/settings", token, { wechat_enabled: want }).then(function (out) {
        box.checked = !!out.enabled;
        status.textContent = out.enabled ? "已开启" : "已关闭";
      }, function () {
        box.checked = !want;
        status.textContent = NT.saveFailed;
      }).then(function () { box.disabled = false; });
    });
    wrap.appendChild(box);
    wrap.appendChild(el("label", { "for": "zz-nt-wechat", text: NT.wechat }));
    wrap.appendChild(status);
    return wrap;
  }
  function showNotices() {
    if (noticeBox) { noticeBox.remove(); noticeBox = null; }
    var token = studentToken();
    if (!token || !window.fetch) return Promise.resolve(0);
    return backendCall("GET", "/api/me/notices", token).then(function (body) {
      var unread = (body.notices || []).filter(function (n) { return !n.read; });
      if (!unread.length && !(body.wechat && body.wechat.bound)) return 0;
      var box = el("section", { className: "zz-notices", "aria-labelledby": "zz-nt-h" });
      var h = el("h2", { id: "zz-nt-h", className: "zz-nt-h",
        text: unread.length ? NT.region + "（" + unread.length + "）" : "通知设置" });
      box.appendChild(h);
      if (unread.length) {
        var ul = el("ul", { className: "zz-nt-list" });
        unread.forEach(function (n) {
          var when = String(n.created_at || "").slice(0, 10);
          ul.appendChild(el("li", { className: "zz-nt-item" }, [
            el("strong", { className: "zz-nt-title", text: String(n.title || "") }),
            el("span", { className: "zz-nt-date", text: when }),
            el("p", { className: "zz-nt-body" }, [richText(String(n.body || ""))]),
          ]));
        });
        box.appendChild(ul);
      }
      box.appendChild(wechatSetting(token, body.wechat));
      noticeBox = box;
      log.insertBefore(box, log.firstChild);  // unread notices first, above the conversation
      log.scrollTop = 0;
      if (!unread.length) return 0;
      // shown: mark them read (the student comes from the token on the server)
      return backendCall("POST", "/api/me/notices/read", token, { ids: unread.map(function (n) { return n.id; }) })
        .then(function () { return unread.length; }, function () { return 0; });
    }).catch(function () { return 0; });
  }

  // --- feedback (issue 14 §4): 👍/👎 under each answer, 👎 asks for one reason and an optional comment --------
  var FB = {
    ask: "这条回答有帮助吗？", up: "有帮助", down: "没有帮助", legend: "哪里不好？请选一项",
    reasons: ["答非所问", "内容缺失", "没有帮助", "事实错误"], comment: "补充说明（可选）", submit: "提交反馈",
    cancel: "取消", pick: "请选择一个原因。", thanks: "已收到反馈，谢谢！", failed: "反馈没有提交成功，请稍后再试。",
  };
  function postFeedback(fb, rating, reason, comment) {
    var body = JSON.stringify({ channel: "web", conversation: anonId(), message_id: fb.id, question: fb.q || "",
      answer: fb.a, rating: rating, reason: reason || null, comment: comment || null });
    function go(token) {
      var headers = { "Content-Type": "application/json" };
      if (token) headers.Authorization = "Bearer " + token;
      return fetch(cfg.backendUrl + "/api/feedback", { method: "POST", headers: headers, body: body })
        .then(function (r) {
          if (r.status === 401 && token) return go("");  // sign-in no longer valid: send it anonymously
          if (!r.ok) {
            return r.json().catch(function () { return null; }).then(function (b) {
              var e = new Error("http " + r.status);
              // a refusal the backend explains (429 too_many_feedback: how long to wait): its own words
              if (r.status < 500 && b && typeof b.message === "string") e.userMessage = b.message;
              throw e;
            });
          }
          return true;
        });
    }
    return go(validToken());
  }
  function feedbackUI(item) {
    var fb = item.fb;
    var box = el("div", { className: "zz-fb" });
    var status = el("p", { className: "zz-fb-status", role: "status" });
    function done(rating) {
      fb.state = rating;
      saveHistory(history);
      box.textContent = "";
      status.textContent = FB.thanks;
      box.appendChild(status);
    }
    if (fb.state) { done(fb.state); return box; }
    var group = el("div", { className: "zz-fb-ask", role: "group", "aria-label": FB.ask }, [
      el("span", { "aria-hidden": "true", text: FB.ask }),
    ]);
    var upBtn = el("button", { type: "button", className: "zz-fb-btn", "aria-label": FB.up, title: FB.up, text: "👍" });
    var downBtn = el("button", { type: "button", className: "zz-fb-btn", "aria-label": FB.down, title: FB.down,
      "aria-expanded": "false", text: "👎" });
    group.appendChild(upBtn); group.appendChild(downBtn);
    box.appendChild(group);
    var form = el("form", { className: "zz-fb-form", hidden: "" });
    var fs = el("fieldset", {}, [el("legend", { text: FB.legend })]);
    FB.reasons.forEach(function (r, i) {
      var id = "zz-fb-" + fb.id + "-" + i;
      fs.appendChild(el("div", { className: "zz-fb-opt" }, [
        el("input", { type: "radio", name: "zz-fb-" + fb.id, id: id, value: r }),
        el("label", { "for": id, text: r }),
      ]));
    });
    form.appendChild(fs);
    var cid = "zz-fb-c-" + fb.id;
    form.appendChild(el("label", { "for": cid, className: "zz-fb-clabel", text: FB.comment }));
    var comment = el("textarea", { id: cid, rows: "2", maxlength: "500", className: "zz-fb-comment" });
    form.appendChild(comment);
    var err = el("p", { className: "zz-fb-err", role: "alert" });
    form.appendChild(err);
    form.appendChild(el("div", { className: "zz-fb-actions" }, [
      el("button", { type: "submit", className: "zz-fb-submit", text: FB.submit }),
      el("button", { type: "button", className: "zz-fb-cancel", text: FB.cancel }),
    ]));
    box.appendChild(form);
    box.appendChild(status);
    function sendFb(rating, reason, text) {
      status.textContent = "";
      return postFeedback(fb, rating, reason, text).then(function () { done(rating); }, function (e) {
        status.textContent = (e && e.userMessage) || FB.failed;
      });
    }
    upBtn.addEventListener("click", function () { sendFb("up"); });
    downBtn.addEventListener("click", function () {
      form.hidden = false;
      downBtn.setAttribute("aria-expanded", "true");
      fs.querySelector("input").focus();
      scrollDown();
    });
    form.querySelector(".zz-fb-cancel").addEventListener("click", function () {
      form.hidden = true;
      downBtn.setAttribute("aria-expanded", "false");
      downBtn.focus();
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var picked = form.querySelector("input:checked");
      if (!picked) { err.textContent = FB.pick; fs.querySelector("input").focus(); return; }
      err.textContent = "";
      sendFb("down", picked.value, comment.value.trim()).then(function () { input.focus(); });
    });
    return box;
  }

  // --- a person in the chat (issue 15 §2): while a counselor holds the conversation, their replies are polled
  // from the backend (signed in: the web token; anonymous: the secret this conversation got) -----------------
  var HO = { teacher: "老师", waiting: "排队等待老师接入…（可以继续问我）", active: "人工服务中", every: 2500 };
  var ho = { timer: null, polling: false };
  function hoKey() { return "zz.handoff." + historyKey(); }
  function hoLoad() { try { return JSON.parse(sessionStorage.getItem(hoKey()) || "null"); } catch (e) { return null; } }
  function hoSave(v) { try { sessionStorage.setItem(hoKey(), JSON.stringify(v)); } catch (e) { /* full */ } }
  function handoffHeld() { var h = hoLoad(); return !!(h && (h.state === "waiting" || h.state === "active")); }
  // a person holds the chat (the answers are theirs, not the bot's: no 👍/👎); in the queue the bot still answers
  function handoffActive() { var h = hoLoad(); return !!(h && h.state === "active"); }
  function hoSubtitle(h) {
    var sub = header.querySelector(".zz-sub");
    if (!sub) return;
    var held = h && (h.state === "waiting" || h.state === "active");
    sub.textContent = !held ? TEXT.subtitle : h.state === "waiting" ? HO.waiting
      : HO.active + (h.staff_name ? "（" + h.staff_name + "）" : "");
    root.classList.toggle("zz-human", !!held);
  }
  function handoffUpdate(p) {
    // from the bot's answer: {state, session_id, secret?}
    var h = hoLoad() || { after: 0 };
    if (p.session_id && h.session_id !== p.session_id) { h = { after: h.after || 0, session_id: p.session_id }; }
    if (p.secret) h.secret = p.secret;
    if (p.state) h.state = p.state;
    hoSave(h);
    hoSubtitle(h);
    if (h.state === "waiting" || h.state === "active") hoStart(); else hoStop();
  }
  function hoStart() {
    if (!ho.timer && window.fetch) ho.timer = setInterval(hoPoll, HO.every);
    hoPoll();
  }
  function hoStop() { if (ho.timer) { clearInterval(ho.timer); ho.timer = null; } }
  function hoPoll() {
    var h = hoLoad(), token = studentToken();
    if (ho.polling || (!token && !(h && h.secret))) return Promise.resolve();
    ho.polling = true;
    var headers = token ? { Authorization: "Bearer " + token } : { "X-Handoff-Secret": h.secret };
    var after = (h && h.after) || 0;
    return fetch(cfg.backendUrl + "/api/handoff/messages?after=" + after, { headers: headers })
      .then(function (r) {
        if (!r.ok) { var e = new Error("http " + r.status); e.status = r.status; throw e; }
        return r.json();
      })
      .then(function (body) {
        var known = hoLoad(), cur = known || {};
        if (!body.session) { hoStop(); return; }
        var held = body.session.state === "waiting" || body.session.state === "active";
        if (!known && !held) {
          // an earlier, finished conversation with a person: already shown then, not again
          var ids = (body.messages || []).map(function (m) { return m.id; });
          hoSave({ session_id: body.session.id, state: body.session.state, after: Math.max.apply(null, [0].concat(ids)) });
          hoStop();
          return;
        }
        if (cur.session_id && cur.session_id !== body.session.id && body.session.id < cur.session_id) return;
        cur.session_id = body.session.id;
        cur.state = body.session.state;
        cur.staff_name = body.session.staff_name;
        (body.messages || []).forEach(function (m) {
          if (m.id <= (cur.after || 0)) return;
          cur.after = m.id;
          addItem(m.sender === "staff" ? { from: "staff", text: m.text, name: cur.staff_name || HO.teacher }
            : { from: "bot", text: m.text });
        });
        hoSave(cur);
        hoSubtitle(cur);
        if (cur.state !== "waiting" && cur.state !== "active") hoStop();
      })
      .catch(function (e) {
        // 401/403/404: this conversation has no person (signed out, unknown secret): stop asking.
        // Otherwise the backend is restarting: the next poll catches up (after = the last message shown).
        if (e && e.status >= 400 && e.status < 500) hoStop();
      })
      .then(function () { ho.polling = false; });
  }
  function handoffResume() {
    var h = hoLoad();
    hoSubtitle(h);
    // a signed-in student may have a conversation with a person from before this page (another tab, reload)
    if ((h && (h.state === "waiting" || h.state === "active")) || studentToken()) hoStart();
  }

  // --- events --------------------------------------------------------------------------------------
  var composing = false;
  input.addEventListener("compositionstart", function () { composing = true; });
  input.addEventListener("compositionend", function () { setTimeout(function () { composing = false; }, 0); });
  input.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || e.shiftKey) return;
    if (e.isComposing || composing || e.keyCode === 229) return; // IME is picking characters
    e.preventDefault();
    submit();
  });
  sendBtn.addEventListener("click", submit);
  function submit() {
    var text = input.value.trim();
    if (!text || busy) return;
    input.value = "";
    send(text);
  }
  function open() {
    panel.hidden = false;
    root.classList.add("zz-open");
    launcher.setAttribute("aria-expanded", "true");
    redraw();
    showNotices();
    handoffResume();
    input.focus();
  }
  function close() {
    panel.hidden = true;
    root.classList.remove("zz-open");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  launcher.addEventListener("click", function () { if (panel.hidden) open(); else close(); });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") close(); });
  window.addEventListener("storage", function (e) { if (e.key === cfg.tokenKey && !panel.hidden) redraw(); });

  function mount() {
    document.body.appendChild(root);
    var wasOpen = false;
    try { wasOpen = sessionStorage.getItem("zz.open") === "1"; } catch (e) { /* ignore */ }
    if (ds.open === "1" || wasOpen) open();
  }
  window.addEventListener("beforeunload", function () {
    try { sessionStorage.setItem("zz.open", panel.hidden ? "0" : "1"); } catch (e) { /* ignore */ }
  });
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  window.ZhinengZixun = {
    config: cfg,
    open: open,
    close: close,
    send: function (t) { if (panel.hidden) open(); return send(t); },
    setToken: function (token) {
      try {
        if (token) localStorage.setItem(cfg.tokenKey, token); else localStorage.removeItem(cfg.tokenKey);
      } catch (e) { /* ignore */ }
      showAlert("");
      if (!panel.hidden) { redraw(); showNotices(); }
    },
    clearHistory: function () { try { sessionStorage.removeItem(historyKey()); } catch (e) { /* ignore */ } },
  };
})();
