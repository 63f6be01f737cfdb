/* AI Business Studio: customer-service chat widget for a company's website.
 *
 *   <script src="https://HOST:8502/widget.js" data-key="sk-studio-…" data-lang="auto"></script>
 *
 * Plain JavaScript, no build step, nothing loaded from elsewhere. It adds a chat bubble; questions
 * go to this server's /api/v1/support/ask (answers stream in), with sources, "did you mean"
 * buttons, thumbs and a hand-over form. The conversation is kept in this browser (localStorage)
 * across page reloads. Every text from the server is inserted as text, never as HTML. Thumbs, "did
 * you mean" clicks and tickets name their answer by the answer_token that came with it. When the
 * server is busy (429, 503) it says when to try again (Retry-After).
 * data-lang: auto (the browser's language), en, zh-Hans or zh-Hant.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__studioWidget) { return; }
  window.__studioWidget = true;
  var KEY = script.getAttribute("data-key") || "";
  var BASE = new URL(script.src, location.href).origin;
  var STORE = "studio-widget:" + KEY.slice(0, 18);

  var TEXT = {
    "en": {title: "Customer service", placeholder: "Ask a question…", send: "Send", open: "Chat with us",
           close: "Close", sources: "Sources", didYouMean: "Did you mean:", helpful: "Helpful",
           notHelpful: "Not helpful", person: "Talk to a person", name: "Your name",
           contact: "Email or phone", question: "Your question", sendTicket: "Send to our team",
           ticketDone: "Thank you! Ticket #{n} was created; we will get back to you.",
           ticketMissing: "Please fill in your name, how to reach you and your question.",
           waiting: "{n} request(s) ahead of yours…", thinking: "…", newChat: "New conversation",
           error: "Sorry, something went wrong ({e}). Please try again.",
           badKey: "This chat is not set up correctly (API key refused).",
           busy: "Many people are asking right now; please try again in {s} s.",
           tier1: "From our FAQ", tier2: "Written from our help centre", tier3: "Handed over to a person"},
    "zh-Hans": {title: "在线客服", placeholder: "请输入您的问题…", send: "发送", open: "联系客服",
           close: "关闭", sources: "来源", didYouMean: "您是不是想问：", helpful: "有帮助",
           notHelpful: "没帮助", person: "联系人工客服", name: "您的姓名", contact: "邮箱或电话",
           question: "您的问题", sendTicket: "提交给客服团队",
           ticketDone: "谢谢！已创建工单 #{n}，我们会尽快回复您。",
           ticketMissing: "请填写姓名、联系方式和问题。", waiting: "前面还有 {n} 个请求…", thinking: "…",
           newChat: "新对话", error: "抱歉，出错了（{e}），请重试。", badKey: "客服窗口配置有误（API 密钥被拒绝）。",
           busy: "当前咨询人数较多，请 {s} 秒后重试。",
           tier1: "来自常见问题", tier2: "依据帮助中心资料撰写", tier3: "已转交人工"},
    "zh-Hant": {title: "線上客服", placeholder: "請輸入您的問題…", send: "送出", open: "聯絡客服",
           close: "關閉", sources: "來源", didYouMean: "您是不是想問：", helpful: "有幫助",
           notHelpful: "沒幫助", person: "聯絡真人客服", name: "您的姓名", contact: "電子郵件或電話",
           question: "您的問題", sendTicket: "送交客服團隊",
           ticketDone: "謝謝！已建立工單 #{n}，我們會盡快回覆您。",
           ticketMissing: "請填寫姓名、聯絡方式和問題。", waiting: "前面還有 {n} 個請求…", thinking: "…",
           newChat: "新對話", error: "抱歉，發生錯誤（{e}），請重試。", badKey: "客服視窗設定有誤（API 金鑰被拒絕）。",
           busy: "目前詢問人數較多，請 {s} 秒後再試。",
           tier1: "來自常見問題", tier2: "依據說明中心資料撰寫", tier3: "已轉交真人客服"}
  };

  function pickLang() {
    var wanted = (script.getAttribute("data-lang") || "auto");
    if (TEXT[wanted]) { return wanted; }
    var nav = (navigator.language || "en").toLowerCase();
    if (nav.indexOf("zh") === 0) {
      return /tw|hk|mo|hant/.test(nav) ? "zh-Hant" : "zh-Hans";
    }
    return "en";
  }
  var LANG = pickLang();
  function t(key, values) {
    var s = (TEXT[LANG] || TEXT.en)[key] || TEXT.en[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.replace("{" + k + "}", values[k]); });
    return s;
  }

  function load() {
    try { return JSON.parse(localStorage.getItem(STORE)) || {}; } catch (e) { return {}; }
  }
  var state = load();
  state.messages = state.messages || [];
  function save() {
    state.messages = state.messages.slice(-50);
    try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode: memory only */ }
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; }
      else if (k === "onclick") { node.addEventListener("click", attrs[k]); }
      else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI','Noto Sans','Noto Sans CJK SC',sans-serif}",
    ".bubble{position:fixed;right:20px;bottom:20px;z-index:2147483000;background:#2f6b4f;color:#fff;border:0;",
    "border-radius:28px;padding:14px 20px;font-size:15px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:370px;max-width:calc(100vw - 40px);",
    "height:560px;max-height:calc(100vh - 110px);background:#fff;border-radius:12px;display:none;flex-direction:column;",
    "box-shadow:0 8px 30px rgba(0,0,0,.25);overflow:hidden;color:#1d2a24;font-size:14px}",
    ".panel.open{display:flex}",
    ".head{background:#2f6b4f;color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}",
    ".head b{flex:1;font-size:15px}.head button{background:transparent;border:0;color:#fff;cursor:pointer;font-size:13px}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;background:#f6f8f7}",
    ".msg{max-width:88%;padding:9px 12px;border-radius:10px;white-space:pre-wrap;line-height:1.45;word-wrap:break-word}",
    ".user{align-self:flex-end;background:#2f6b4f;color:#fff}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #dfe7e2}",
    ".meta{font-size:12px;color:#5c6f65;margin-top:6px}",
    ".sugg{display:block;margin-top:6px;text-align:left;background:#eef5f1;border:1px solid #cfe0d6;border-radius:8px;",
    "padding:6px 9px;cursor:pointer;font-size:13px;color:#1d2a24;width:100%}",
    "details{margin-top:6px;font-size:12px;color:#33463c}details p{margin:4px 0}",
    ".thumbs{margin-top:6px;display:flex;gap:6px}.thumbs button{border:1px solid #cfe0d6;background:#fff;border-radius:6px;",
    "cursor:pointer;padding:2px 8px;font-size:12px}.thumbs button.on{background:#2f6b4f;color:#fff}",
    "form{display:flex;flex-direction:column;gap:6px;margin-top:8px}",
    "input,textarea{border:1px solid #cfd8d3;border-radius:8px;padding:8px;font-size:14px;width:100%}",
    ".ask{display:flex;gap:6px;padding:10px;border-top:1px solid #e3e9e5;background:#fff}",
    ".ask button,form button{background:#2f6b4f;color:#fff;border:0;border-radius:8px;padding:8px 12px;cursor:pointer}",
    ".note{font-size:12px;color:#5c6f65;align-self:center}"
  ].join("");

  var host = el("div", {"id": "studio-widget"});
  document.body.appendChild(host);
  var root = host.attachShadow ? host.attachShadow({mode: "open"}) : host;
  root.appendChild(el("style", {text: CSS}));
  var log = el("div", {"class": "log", "aria-live": "polite"});
  var input = el("textarea", {"rows": "2", "placeholder": t("placeholder"), "aria-label": t("placeholder"),
                              "maxlength": "2000"});
  var sendButton = el("button", {text: t("send"), "type": "button"});
  var panel = el("div", {"class": "panel", "role": "dialog", "aria-label": t("title")}, [
    el("div", {"class": "head"}, [
      el("b", {text: script.getAttribute("data-title") || t("title")}),
      el("button", {text: t("newChat"), "type": "button", onclick: function () {
        state = {messages: []}; save(); render();
      }}),
      el("button", {text: "✕", "type": "button", "aria-label": t("close"), onclick: function () { toggle(false); }})
    ]),
    log,
    el("div", {"class": "ask"}, [input, sendButton])
  ]);
  var bubble = el("button", {"class": "bubble", text: t("open"), "type": "button", onclick: function () { toggle(); }});
  root.appendChild(panel);
  root.appendChild(bubble);

  function toggle(open) {
    var now = open === undefined ? !panel.classList.contains("open") : open;
    panel.classList.toggle("open", now);
    if (now) { input.focus(); log.scrollTop = log.scrollHeight; }
  }

  function headers() {
    return {"Authorization": "Bearer " + KEY, "Content-Type": "application/json", "X-Studio-Channel": "widget"};
  }

  function post(path, body) {
    return fetch(BASE + path, {method: "POST", headers: headers(), body: JSON.stringify(body)});
  }

  function problem(response) {
    if (response.status === 401 || response.status === 403) { return t("badKey"); }
    if (response.status === 429 || response.status === 503) {  // too many at once: the server says when to retry
      return t("busy", {s: response.headers.get("Retry-After") || "30"});
    }
    return t("error", {e: "HTTP " + response.status});
  }

  function failure(response) {  // an Error whose message is already fit to show
    var error = new Error(problem(response));
    error.friendly = true;
    return error;
  }

  function answerView(m, index) {
    var box = el("div", {"class": "msg bot"});
    box.appendChild(document.createTextNode(m.text || t("thinking")));
    if (m.pending) { return box; }
    if (m.tier) {
      box.appendChild(el("div", {"class": "meta", text: t("tier" + m.tier)}));
    }
    if (m.sources && m.sources.length) {
      var details = el("details", {}, [el("summary", {text: t("sources")})]);
      m.sources.forEach(function (s) {
        details.appendChild(el("p", {text: "[" + s.n + "] " + s.source + (s.faq_id ? " · " + s.faq_id : "")}));
      });
      box.appendChild(details);
    }
    if (m.suggestions && m.suggestions.length) {
      box.appendChild(el("div", {"class": "meta", text: t("didYouMean")}));
      m.suggestions.forEach(function (s) {
        box.appendChild(el("button", {"class": "sugg", "type": "button", text: s.question, onclick: function () {
          takeSuggestion(m, s);
        }}));
      });
    }
    if (m.answer_token) {
      var up = el("button", {"type": "button", text: t("helpful"), "class": m.feedback === true ? "on" : ""});
      var down = el("button", {"type": "button", text: t("notHelpful"), "class": m.feedback === false ? "on" : ""});
      up.addEventListener("click", function () { feedback(m, true); });
      down.addEventListener("click", function () { feedback(m, false); });
      box.appendChild(el("div", {"class": "thumbs"}, [up, down]));
    }
    if (m.handover && index === state.messages.length - 1) {
      box.appendChild(handoverForm(m));
    }
    return box;
  }

  function handoverForm(m) {
    var name = el("input", {"placeholder": t("name"), "maxlength": "200", "aria-label": t("name")});
    var contact = el("input", {"placeholder": t("contact"), "maxlength": "200", "aria-label": t("contact")});
    var question = el("textarea", {"rows": "2", "maxlength": "5000", "aria-label": t("question")});
    question.value = m.asked || "";
    var note = el("div", {"class": "meta"});
    var form = el("form", {}, [el("b", {text: t("person")}), name, contact, question,
                               el("button", {"type": "submit", text: t("sendTicket")}), note]);
    if (m.ticket) {
      return el("div", {"class": "meta", text: t("ticketDone", {n: m.ticket})});
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!name.value.trim() || !contact.value.trim() || !question.value.trim()) {
        note.textContent = t("ticketMissing");
        return;
      }
      post("/api/v1/support/tickets", {name: name.value, contact: contact.value, question: question.value,
                                       answer_token: m.answer_token || null})
        .then(function (r) {
          if (!r.ok) { note.textContent = problem(r); return null; }
          return r.json();
        })
        .then(function (data) {
          if (data) { m.ticket = data.ticket; save(); render(); }
        })
        .catch(function (e) { note.textContent = t("error", {e: e.message}); });
    });
    return form;
  }

  function render() {
    while (log.firstChild) { log.removeChild(log.firstChild); }
    state.messages.forEach(function (m, i) {
      log.appendChild(m.role === "user" ? el("div", {"class": "msg user", text: m.text}) : answerView(m, i));
    });
    log.scrollTop = log.scrollHeight;
  }

  function applyFinal(m, data) {
    m.pending = false;
    m.text = data.text;
    m.tier = data.tier;
    m.sources = data.sources || [];
    m.suggestions = data.suggestions || [];
    m.handover = data.handover;
    m.question_id = data.question_id;
    m.answer_token = data.answer_token;  // names this answer for thumbs, suggestions and tickets
    state.conversation_id = data.conversation_id || state.conversation_id;
  }

  function ask(question) {
    question = question.trim();
    if (!question) { return; }
    state.messages.push({role: "user", text: question});
    var m = {role: "assistant", text: "", pending: true, asked: question};
    state.messages.push(m);
    render();
    sendButton.disabled = true;
    post("/api/v1/support/ask", {question: question, conversation_id: state.conversation_id || null, language: LANG})
      .then(function (response) {
        if (!response.ok) { throw failure(response); }
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (part) {
            buffer += decoder.decode(part.value || new Uint8Array(), {stream: !part.done});
            var events = buffer.split("\n\n");
            buffer = events.pop();
            events.forEach(function (raw) {
              var name = "message", data = "";
              raw.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) { name = line.slice(7); }
                else if (line.indexOf("data: ") === 0) { data += line.slice(6); }
              });
              if (!data) { return; }
              var payload = JSON.parse(data);
              if (name === "queue") { m.text = t("waiting", {n: payload.ahead}); }
              else if (name === "delta") { m.text = (m.textStarted ? m.text : "") + payload.text; m.textStarted = true; }
              else if (name === "final") { applyFinal(m, payload); }
              var bot = log.lastChild;
              if (bot && m.pending) { bot.firstChild.textContent = m.text || t("thinking"); log.scrollTop = log.scrollHeight; }
            });
            if (part.done) { return null; }
            return pump();
          });
        }
        return pump();
      })
      .catch(function (e) {
        m.pending = false;
        m.text = e.friendly ? e.message : t("error", {e: e.message});
      })
      .then(function () {
        delete m.textStarted;
        m.pending = false;
        sendButton.disabled = false;
        save();
        render();
      });
  }

  function takeSuggestion(m, s) {
    state.messages.push({role: "user", text: s.question});
    var reply = {role: "assistant", text: "", pending: true};
    state.messages.push(reply);
    render();
    post("/api/v1/support/suggestion", {faq_id: s.faq_id, asked: m.asked || s.question,
                                        answer_token: m.answer_token || null, conversation_id: state.conversation_id || null})
      .then(function (r) { if (!r.ok) { throw failure(r); } return r.json(); })
      .then(function (data) { applyFinal(reply, data); reply.asked = s.question; })
      .catch(function (e) { reply.pending = false; reply.text = e.friendly ? e.message : t("error", {e: e.message}); })
      .then(function () { save(); render(); });
  }

  function feedback(m, helpful) {
    var value = m.feedback === helpful ? null : helpful;
    post("/api/v1/support/feedback", {answer_token: m.answer_token, helpful: value})
      .then(function (r) { if (r.ok) { m.feedback = value; save(); render(); } });
  }

  sendButton.addEventListener("click", function () { var q = input.value; input.value = ""; ask(q); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      var q = input.value; input.value = ""; ask(q);
    }
  });
  render();
  if (state.open) { toggle(true); }
})();
