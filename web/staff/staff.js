// Staff pages (issue 14): sign-in (demo login or the university SSO), answers staff edit without retraining.
// Every call carries the staff token; the backend decides what each role may see and change.
(function () {
  "use strict";
  var TOKEN_KEY = "zz.staff.token";
  var $ = function (id) { return document.getElementById(id); };
  var state = { me: null, list: [], current: null, q: "" };

  function token() { try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; } }
  function setToken(t) {
    try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
  }
  function api(method, path, body) {
    var headers = { "Content-Type": "application/json" };
    if (token()) headers.Authorization = "Bearer " + token();
    return fetch(path, { method: method, headers: headers, body: body ? JSON.stringify(body) : undefined })
      .catch(function () {
        var e = new Error("暂时无法连接服务器，请检查网络后重试。"); e.status = 0; throw e;
      })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (!r.ok) {
            var e = new Error(data.message || ("请求失败（" + r.status + "）"));
            e.status = r.status; e.code = data.code; e.fields = data.fields || []; e.data = data;
            if (r.status === 401) signOut("登录已过期或无效，请重新登录。");
            throw e;
          }
          return data;
        });
      });
  }
  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") n.className = attrs[k]; else n.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) n.textContent = text;
    return n;
  }
  // A labelled form field: label, optional hint, the control (given its id), and an error line the control is
  // described by (id + "-err"), so a message put there is read with the field.
  function field(id, labelText, control, hint, className) {
    var wrap = el("div", { className: className || "field" });
    wrap.appendChild(el("label", { "for": id }, labelText));
    control.id = id;
    var describedBy = [id + "-err"];
    if (hint) { wrap.appendChild(el("p", { className: "muted", id: id + "-hint" }, hint)); describedBy.unshift(id + "-hint"); }
    control.setAttribute("aria-describedby", describedBy.join(" "));
    wrap.appendChild(control);
    wrap.appendChild(el("p", { className: "error", id: id + "-err" }));
    return wrap;
  }
  // for the page's other sections (handoff.js, ...): one API client (401 signs out), one element helper, one table,
  // one form field
  window.ZZStaff = { api: api, el: el, token: token, table: renderTable, field: field };
  function flash(msg) { $("flash").textContent = msg || ""; }
  function fmtTime(iso) { return iso ? iso.replace("T", " ").slice(0, 16) : ""; }
  function roleLabel(me) {
    return me.role === "school" ? "学校就业指导中心" : ((me.college || "学院") + " · 辅导员");
  }

  // --- sign-in --------------------------------------------------------------------------------------------
  function signOut(msg) {
    setToken("");
    state.me = null;
    $("signed-in").hidden = true;
    $("tabs").hidden = true;
    $("answers").hidden = true;
    $("questions").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = msg || "";
    api("GET", "/api/staff/login-options").then(function (o) {
      $("demo-login").hidden = !o.demo;
      $("cas-login").hidden = !o.cas;
      if (!o.demo && !o.cas) $("signin-error").textContent = "尚未配置登录方式（统一身份认证），请联系系统管理员。";
    }).catch(function (e) { $("signin-error").textContent = e.message; });
  }
  function signedIn() {
    return api("GET", "/api/staff/me").then(function (me) {
      state.me = me;
      $("who").textContent = "已登录：" + me.name + "（" + roleLabel(me) + "）";
      $("signed-in").hidden = false;
      $("signin").hidden = true;
      $("tabs").hidden = false;
      route();
      $("answers-hint").textContent = me.can_edit_answers
        ? "这里是智能咨询给学生的回答。修改保存后，学生下一次提问就会看到新内容，不需要重新训练；每次修改都留有历史版本，可以恢复。"
        : "这里是智能咨询给学生的回答（只读）。如需修改，请联系学校就业指导中心。";
      return loadList();
    }).catch(function (e) {
      if (e.status === 403) signOut("此工作台仅供学院和学校就业工作老师使用。");
      else if (e.status !== 401) flash(e.message);
    });
  }
  $("demo-login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-btn").disabled = true;
    $("signin-error").textContent = "";
    api("POST", "/api/auth/dev-login", { staff_id: $("staff-id").value }).then(function (out) {
      setToken(out.access_token);
      return signedIn().then(function () { $("main").focus(); });
    }).catch(function (e) {
      $("signin-error").textContent = "登录失败：" + e.message;
    }).then(function () { $("login-btn").disabled = false; });
  });
  $("logout-btn").addEventListener("click", function () { signOut(""); flash("已退出。"); $("staff-id").focus(); });

  // --- answers: list ----------------------------------------------------------------------------------------
  function title(key) {
    if (key.indexOf("utter_faq/") === 0) return "常见问题 · " + key.slice(10);
    return "对话回答 · " + key.replace(/^utter_/, "");
  }
  function loadList() {
    var q = state.q ? "?q=" + encodeURIComponent(state.q) : "";
    return api("GET", "/api/staff/answers" + q).then(function (out) {
      state.list = out.items;
      renderList();
    }).catch(function (e) { if (e.status !== 401) flash(e.message); });
  }
  function renderList() {
    var ul = $("answer-list");
    ul.textContent = "";
    state.list.forEach(function (a) {
      var li = el("li");
      var b = el("button", { type: "button", "data-key": a.key });
      var strong = el("span", {}, a.preview || "（无文字）");
      b.appendChild(strong);
      if (a.edited) b.appendChild(el("span", { className: "badge" }, "已修改"));
      b.appendChild(el("span", { className: "key" }, title(a.key) + " · 第" + a.version + "版"));
      if (state.current && state.current.key === a.key) b.setAttribute("aria-current", "true");
      b.addEventListener("click", function () { openAnswer(a.key, true); });
      li.appendChild(b);
      ul.appendChild(li);
    });
    $("list-count").textContent = state.q
      ? "找到 " + state.list.length + " 条包含“" + state.q + "”的回答"
      : "共 " + state.list.length + " 条回答";
  }
  $("search-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    state.q = $("search").value.trim();
    loadList();
  });

  // --- answers: editor --------------------------------------------------------------------------------------
  function openAnswer(key, focus) {
    return api("GET", "/api/staff/answers/" + encodeURI(key)).then(function (a) {
      renderEditor(a);
      renderList();
      if (focus) { $("editor-h").focus(); }
    }).catch(function (e) { if (e.status !== 401) flash(e.message); });
  }
  function variationLabel(v, i, n) {
    var parts = [];
    if (v.channel) parts.push("仅“" + v.channel + "”渠道");
    (v.condition || []).forEach(function (c) { parts.push("条件：" + c.name + " = " + c.value); });
    var base = n > 1 ? "回答内容（措辞" + (i + 1) + "，共" + n + "种）" : "回答内容";
    return base + (parts.length ? "（" + parts.join("；") + "）" : "");
  }
  function renderEditor(a) {
    state.current = a;
    var canEdit = !!a.can_edit;
    $("editor").hidden = false;
    $("editor-h").textContent = title(a.key);
    $("editor-meta").textContent = "当前第" + a.version + "版 · " + fmtTime(a.updated_at) + " · " +
      (a.updated_by === "domain" ? "初始内容" : "修改人：" + a.updated_by) + " · 名称：" + a.key;
    $("readonly-note").hidden = canEdit;
    $("edit-extra").hidden = !canEdit;
    $("edit-status").textContent = "";
    var box = $("variations");
    box.textContent = "";
    a.variations.forEach(function (v, i) {
      var id = "var-" + i;
      box.appendChild(el("label", { "for": id }, variationLabel(v, i, a.variations.length)));
      var ta = el("textarea", { id: id, "aria-describedby": id + "-err" + (v.buttons ? " " + id + "-buttons" : "") });
      ta.value = v.text || "";
      if (!canEdit) ta.readOnly = true;
      box.appendChild(ta);
      if (v.buttons && v.buttons.length) {
        box.appendChild(el("p", { id: id + "-buttons", className: "buttons-info" },
          "回答下方的按钮：" + v.buttons.map(function (b) { return b.title; }).join("、") + "（按钮保持不变）"));
      }
      box.appendChild(el("p", { id: id + "-err", className: "error" }));
    });
    var usesVariables = a.variations.some(function (v) { return /{[^{}\n]+}/.test(v.text || ""); });
    if (usesVariables && a.variables && a.variables.length && canEdit) {
      box.appendChild(el("p", { className: "muted" }, "可用变量（会替换成学生的信息）：" +
        a.variables.slice(0, 12).map(function (x) { return "{" + x + "}"; }).join(" ")));
    }
    $("source").value = a.source || "";
    $("source").readOnly = !canEdit;
    $("source").removeAttribute("aria-invalid");
    $("source-err").textContent = "";
    $("note").value = "";
    renderHistory(a);
  }
  function renderHistory(a) {
    var ol = $("history");
    ol.textContent = "";
    a.history.forEach(function (h) {
      var li = el("li");
      var who = h.author_role === "domain" ? "初始内容" : h.author_id;
      li.appendChild(el("div", {}, "第" + h.version + "版 · " + fmtTime(h.created_at) + " · " + who +
        (h.note ? " · " + h.note : "") + (h.version === a.version ? "（当前）" : "")));
      li.appendChild(el("div", { className: "text" }, h.variations.map(function (v) { return v.text || ""; }).join("\n——\n")));
      if (h.source) li.appendChild(el("div", { className: "muted" }, "出处：" + h.source));
      if (a.can_edit && h.version !== a.version) {
        var b = el("button", { type: "button", className: "secondary" }, "恢复第" + h.version + "版");
        b.addEventListener("click", function () { rollback(h.version); });
        li.appendChild(b);
      }
      ol.appendChild(li);
    });
  }
  function clearErrors() {
    document.querySelectorAll("#edit-form [aria-invalid]").forEach(function (n) { n.removeAttribute("aria-invalid"); });
    document.querySelectorAll("#edit-form .error").forEach(function (n) { n.textContent = ""; });
  }
  function showError(e) {
    var first = null;
    (e.fields || []).forEach(function (f) {
      var m = /^variations\.(\d+)\.text$/.exec(f.field || "");
      var input = m ? $("var-" + m[1]) : (f.field === "source" ? $("source") : null);
      var err = m ? $("var-" + m[1] + "-err") : (f.field === "source" ? $("source-err") : null);
      if (input && err) {
        input.setAttribute("aria-invalid", "true");
        err.textContent = f.message;
        first = first || input;
      }
    });
    $("edit-status").textContent = "未保存：" + e.message;
    if (first) first.focus();
  }
  function saved(a, msg) {
    renderEditor(a);
    $("edit-status").textContent = msg;
    loadList();
  }
  $("edit-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var a = state.current;
    if (!a || !a.can_edit) return;
    clearErrors();
    var body = {
      base_version: a.version,
      variations: a.variations.map(function (_, i) { return { text: $("var-" + i).value }; }),
      source: $("source").value,
      note: $("note").value
    };
    $("save-btn").disabled = true;
    api("PUT", "/api/staff/answers/" + encodeURI(a.key), body).then(function (out) {
      saved(out, "已保存为第" + out.version + "版，学生下一次提问即生效。");
    }).catch(function (e) {
      if (e.status === 401) return;
      if (e.status === 409) {
        $("edit-status").textContent = "未保存：" + e.message + " 您的修改还在输入框里，可复制后刷新。";
      } else showError(e);
    }).then(function () { $("save-btn").disabled = false; });
  });
  function rollback(version) {
    var a = state.current;
    api("POST", "/api/staff/answers/" + encodeURI(a.key) + "/rollback", { version: version, base_version: a.version })
      .then(function (out) {
        saved(out, "已恢复第" + version + "版的内容（保存为第" + out.version + "版），学生下一次提问即生效。");
        $("edit-status").focus && $("editor-h").focus();
      }).catch(function (e) { if (e.status !== 401) $("edit-status").textContent = "未恢复：" + e.message; });
  }

  // --- sections -------------------------------------------------------------------------------------------
  function route() {
    if (!state.me) return;
    var q = location.hash === "#questions";
    $("answers").hidden = q;
    $("questions").hidden = !q;
    if (q) $("tab-answers").removeAttribute("aria-current"); else $("tab-answers").setAttribute("aria-current", "page");
    if (q) $("tab-questions").setAttribute("aria-current", "page"); else $("tab-questions").removeAttribute("aria-current");
    if (q) loadQuestions();
  }
  window.addEventListener("hashchange", function () {
    route();
    var h = $(location.hash === "#questions" ? "questions-h" : "answers-h");
    h.setAttribute("tabindex", "-1");
    h.focus();
  });

  // --- questions and feedback (issue 14 §3, §4) --------------------------------------------------------------
  var CHANNELS = { web: "网页", wechat: "微信", rest: "网页" };
  function topic(key) {
    if (!key) return "（未识别）";
    if (key === "utter_knowledge" || key === "action_answer_knowledge") return "知识库回答";
    var a = state.list.filter(function (x) { return x.key === key; })[0];
    if (key.indexOf("utter_") === 0) return title(key) + (a ? "：" + a.preview.slice(0, 24) : "");
    var actions = { action_check_status: "查询办理进度", action_handoff: "转人工", action_change_advice: "信息修改建议",
      action_mailing_check: "档案邮寄申请", action_mailing_submit: "提交档案邮寄", action_mailing_date_hint: "何时能申请邮寄",
      action_compare: "对比说明", action_deactivate_loop: "停止填表" };
    return actions[key] || key;
  }
  // a table with a caption and one column per [header, value(row), td class]; the page's sections share it
  function renderTable(box, captionText, cols, rows, empty) {
    box.textContent = "";
    if (!rows.length) { box.appendChild(el("p", { className: "empty" }, empty)); return; }
    var t = el("table");
    t.appendChild(el("caption", {}, captionText));
    var tr = el("tr");
    cols.forEach(function (c) { tr.appendChild(el("th", { scope: "col" }, c[0])); });
    var thead = el("thead"); thead.appendChild(tr); t.appendChild(thead);
    var tb = el("tbody");
    rows.forEach(function (r) {
      var row = el("tr");
      cols.forEach(function (c) {
        var v = c[1](r), td = el("td", c[2] ? { className: c[2] } : {});
        if (v && typeof v === "object") td.appendChild(v); else td.textContent = v === undefined ? "" : String(v);
        row.appendChild(td);
      });
      tb.appendChild(row);
    });
    t.appendChild(tb);
    box.appendChild(t);
  }
  function table(id, captionText, cols, rows) {
    renderTable($(id), captionText + "（" + rows.length + "条）", cols, rows, "暂无。");
  }
  function who(r) { return r.student_id || "未登录"; }
  function conf(r) { return r.confidence === null || r.confidence === undefined ? "" : r.confidence.toFixed(2); }
  function days() { return parseInt($("range").value, 10) || 7; }
  function loadQuestions() {
    $("questions-scope").textContent = state.me.role === "counselor"
      ? "只显示" + (state.me.college || "本学院") + "已登录学生的提问和反馈；未登录的提问只有学校就业指导中心能看到。提问记录保存180天。"
      : "全校的提问和反馈（含未登录的提问）。问题里的手机号、证件号等数字和邮箱已隐去，填表时输入的内容不记录。";
    var load = state.list.length ? Promise.resolve() : loadList();
    return load.then(function () { return api("GET", "/api/staff/insights?days=" + days()); }).then(function (o) {
      var tot = $("totals");
      tot.textContent = "";
      [["提问", o.totals.turns], ["未能回答", o.totals.unanswered], ["把握不大", o.totals.low_confidence],
       ["转人工", o.totals.handoffs], ["👍", o.totals.thumbs_up], ["👎", o.totals.thumbs_down]].forEach(function (x) {
        var d = el("div");
        d.appendChild(el("dt", {}, x[0])); d.appendChild(el("dd", {}, String(x[1])));
        tot.appendChild(d);
      });
      var turnCols = [["时间", function (r) { return fmtTime(r.at); }], ["问题", function (r) { return r.question; }, "q"],
        ["渠道", function (r) { return CHANNELS[r.channel] || r.channel; }], ["学号", who]];
      var act = state.me.can_edit_answers ? [["处理", attachButton]] : [];
      table("unanswered", "未能回答", turnCols.concat([["识别为", function (r) { return r.intent || ""; }]], act),
        o.unanswered);
      table("low", "把握不大", turnCols.concat([["置信度", conf], ["回答", function (r) { return topic(r.answer_key); }]],
        act), o.low_confidence);
      $("training").hidden = !state.me.can_edit_answers;
      if (state.me.can_edit_answers) loadExamples();
      table("handoffs", "转人工", turnCols, o.handoffs);
      table("down", "👎反馈", [["时间", function (r) { return fmtTime(r.at); }], ["原因", function (r) { return r.reason || ""; }],
        ["补充说明", function (r) { return r.comment || ""; }, "q"], ["问题", function (r) { return r.question; }, "q"],
        ["回答", function (r) { return r.answer_key ? topic(r.answer_key) : (r.answer || "").slice(0, 40); }], ["学号", who]],
        o.thumbs_down);
      var reasons = Object.keys(o.down_reasons || {});
      $("reasons").textContent = reasons.length
        ? "原因：" + reasons.map(function (k) { return k + " " + o.down_reasons[k]; }).join("，") : "";
      var ol = $("top-week");
      ol.textContent = "";
      o.top_week.forEach(function (x) { ol.appendChild(el("li", {}, topic(x.topic) + "（" + x.count + "次）")); });
      if (!o.top_week.length) ol.appendChild(el("li", { className: "empty" }, "暂无。"));
      table("top-days", "每天", [["日期", function (r) { return r.date; }], ["提问", function (r) { return String(r.total); }],
        ["最多的话题", function (r) { return r.top.map(function (x) { return topic(x.topic) + "（" + x.count + "）"; }).join("；"); }, "q"]],
        o.top_days);
      $("questions-status").textContent = "已显示" + $("range").selectedOptions[0].textContent + "的数据。";
    }).catch(function (e) { if (e.status !== 401) $("questions-status").textContent = e.message; });
  }
  // --- from a failed question to a better answer (issue 14 §5) ---------------------------------------------
  function attachButton(r) {
    var b = el("button", { type: "button", className: "secondary small" }, "归入回答");
    b.setAttribute("aria-label", "把“" + r.question + "”归入回答");
    b.addEventListener("click", function () { openAttach(r.question, r.answer_key, b); });
    return b;
  }
  var attachOpener = null;
  function openAttach(question, key, opener) {
    attachOpener = opener;
    var sel = $("attach-answer");
    sel.textContent = "";
    sel.appendChild(el("option", { value: "" }, "请选择…"));
    state.list.filter(function (a) { return a.kind === "faq"; }).forEach(function (a) {
      var o = el("option", { value: a.key }, title(a.key) + "：" + a.preview.slice(0, 30));
      if (a.key === key) o.selected = true;
      sel.appendChild(o);
    });
    sel.appendChild(el("option", { value: "__new" }, "＋ 新建一条回答"));
    $("attach-question").value = question;
    $("attach-new").hidden = true;
    $("attach-status").textContent = "";
    clearAttachErrors();
    $("attach-card").hidden = false;
    $("attach-h").focus();
  }
  function clearAttachErrors() {
    ["attach-question", "attach-answer", "attach-topic", "attach-text"].forEach(function (id) {
      $(id).removeAttribute("aria-invalid"); $(id + "-err").textContent = "";
    });
  }
  $("attach-answer").addEventListener("change", function () { $("attach-new").hidden = this.value !== "__new"; });
  $("attach-cancel").addEventListener("click", function () {
    $("attach-card").hidden = true;
    if (attachOpener) attachOpener.focus();
  });
  function fieldError(e, map) {
    var first = null;
    (e.fields || []).forEach(function (f) {
      var id = map[f.field] || (/^variations\.0\.text$/.test(f.field) ? "attach-text" : null);
      if (!id) return;
      $(id).setAttribute("aria-invalid", "true");
      $(id + "-err").textContent = f.message;
      first = first || $(id);
    });
    $("attach-status").textContent = "未保存：" + e.message;
    if (first) first.focus();
  }
  $("attach-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    clearAttachErrors();
    var key = $("attach-answer").value, question = $("attach-question").value;
    if (!key) {
      $("attach-answer").setAttribute("aria-invalid", "true");
      $("attach-answer-err").textContent = "请选择要归入的回答，或选择“新建一条回答”。";
      $("attach-answer").focus();
      return;
    }
    var make = key !== "__new" ? Promise.resolve(key) :
      api("POST", "/api/staff/answers", { topic: $("attach-topic").value.trim(), text: $("attach-text").value })
        .then(function (a) { return a.key; });
    make.then(function (k) {
      return api("POST", "/api/staff/training-examples", { question: question, answer_key: k }).then(function (x) {
        $("attach-status").textContent = x.already_in_training_data
          ? "这句话已经是训练数据里的例句（可能归在别的意图下），不会重复写入；请改写问题或检查训练数据。"
          : "已保存为“" + title(k) + "”的训练样本。写入训练数据并重新训练后生效。";
        if (key === "__new") loadList();
        loadExamples();
      });
    }).catch(function (e) {
      if (e.status === 401) return;
      fieldError(e, { question: "attach-question", answer_key: "attach-answer", topic: "attach-topic",
        text: "attach-text", source: "attach-text" });
    });
  });
  function loadExamples() {
    return api("GET", "/api/staff/training-examples").then(function (o) {
      var ol = $("examples");
      ol.textContent = "";
      o.items.slice(0, 50).forEach(function (x) {
        ol.appendChild(el("li", {}, "“" + x.question + "” → " + title(x.answer_key) +
          (x.exported_at ? "（已写入 " + fmtTime(x.exported_at) + "）" : "（待写入）")));
      });
      if (!o.items.length) ol.appendChild(el("li", { className: "empty" }, "暂无。"));
      $("examples-count").textContent = "待写入 " + o.pending + " 条。";
    }).catch(function (e) { if (e.status !== 401) $("export-status").textContent = e.message; });
  }
  $("export-btn").addEventListener("click", function () {
    api("POST", "/api/staff/training-examples/export").then(function (o) {
      $("export-status").textContent = "已写入 " + (o.files.join("、") || "（没有需要写入的内容）") + "：例句 " +
        o.examples + " 条，新回答 " + o.new_answers + " 条。" +
        (o.skipped_known ? "已在训练数据里的例句 " + o.skipped_known + " 条没有重复写入。" : "") + o.next;
      loadExamples();
    }).catch(function (e) { if (e.status !== 401) $("export-status").textContent = "未写入：" + e.message; });
  });

  $("range-form").addEventListener("submit", function (ev) { ev.preventDefault(); loadQuestions(); });
  function download(kind) {
    var name = kind + "-" + days() + "d.csv";
    fetch("/api/staff/insights/" + kind + ".csv?days=" + days(), { headers: { Authorization: "Bearer " + token() } })
      .then(function (r) {
        if (!r.ok) throw new Error("导出失败（" + r.status + "），请重新登录后再试。");
        return r.blob();
      }).then(function (b) {
        var a = el("a", { href: URL.createObjectURL(b), download: name });
        document.body.appendChild(a); a.click(); a.remove();
        $("questions-status").textContent = "已导出 " + name + "。";
      }).catch(function (e) { $("questions-status").textContent = e.message; });
  }
  $("csv-turns").addEventListener("click", function () { download("turns"); });
  $("csv-feedback").addEventListener("click", function () { download("feedback"); });

  // --- start ------------------------------------------------------------------------------------------------
  var m = /^#access_token=([^&]+)/.exec(location.hash);  // back from the university SSO
  if (m) {
    setToken(decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
  if (token()) signedIn(); else signOut("");
})();
