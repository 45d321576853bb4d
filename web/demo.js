// Demo job-site page: sign-in through the backend's demo login, signed-in status, WeChat binding code.
(function () {
  "use strict";
  var TOKEN_KEY = "zz.token";
  var tag = document.querySelector('script[src*="widget.js"]');
  var backend = ((tag && tag.dataset.backendUrl) || location.origin).replace(/\/$/, "");
  var $ = function (id) { return document.getElementById(id); };

  function token() { try { return localStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; } }
  function setToken(t) {
    if (window.ZhinengZixun) window.ZhinengZixun.setToken(t);
    else if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY);
  }
  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    return fetch(backend + path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) { var e = new Error(data.message || ("HTTP " + r.status)); e.status = r.status; throw e; }
          return data;
        });
      });
  }
  function showSignedOut(msg) {
    $("login-form").hidden = false;
    $("signed-in").hidden = true;
    $("bind-btn").disabled = true;
    $("bind-result").textContent = msg || "";
  }
  function refresh() {
    if (!token()) return showSignedOut();
    api("GET", "/api/me").then(function (me) {
      $("login-form").hidden = true;
      $("signed-in").hidden = false;
      $("who").textContent = "已登录：" + (me.name || "") + "（" + me.id + (me.college ? "，" + me.college : "") + "）";
      $("bind-btn").disabled = false;
    }).catch(function (e) {
      if (e.status === 401) { setToken(""); showSignedOut("登录已过期，请重新登录。"); }
      else showSignedOut("暂时无法连接学校平台，请稍后再试。");
    });
  }
  $("login-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-btn").disabled = true;
    api("POST", "/api/auth/dev-login", { student_id: $("student-id").value }).then(function (out) {
      setToken(out.access_token);
      refresh();
    }).catch(function (e) {
      $("bind-result").textContent = "登录失败：" + e.message;
    }).then(function () { $("login-btn").disabled = false; });
  });
  $("logout-btn").addEventListener("click", function () {
    if (window.ZhinengZixun) window.ZhinengZixun.clearHistory();
    setToken("");
    showSignedOut();
  });
  $("bind-btn").addEventListener("click", function () {
    api("POST", "/api/me/wechat/bind-code").then(function (out) {
      var r = $("bind-result");
      r.textContent = "";
      r.appendChild(document.createTextNode("您的绑定码："));
      var s = document.createElement("strong");
      s.textContent = out.code;
      r.appendChild(s);
      var exp = out.expires_at ? new Date(out.expires_at) : null;
      r.appendChild(document.createTextNode("。请在 10 分钟内把它发送到学校就业公众号（字母大小写均可，中间的“-”可以不输；" +
        "只能使用一次，重新获取后旧码作废）" +
        (exp && !isNaN(exp) ? "（" + exp.toLocaleTimeString("zh-CN", { hour: "2-digit", minute: "2-digit" }) + " 前有效）" : "") + "。"));
    }).catch(function (e) {
      $("bind-result").textContent = "获取绑定码失败：" + e.message;
    });
  });
  $("consult-btn").addEventListener("click", function () {
    if (window.ZhinengZixun) window.ZhinengZixun.open();
  });
  refresh();
})();
