r"""Defences of the customer-service answer against hostile text, enforced in code, not by the model.

* Questions that address the assistant rather than the shop (ignore your instructions, show your
  system prompt, developer mode, fake "SYSTEM:" lines or source blocks, other customers' tickets,
  answer without sources, HTML/script payloads) are handed over to a person, never generated.
* Knowledge-base passages are data: lines in them that give the assistant instructions are cut out
  before the model (or the customer, in the sources list) sees them; markup is reduced to text.
* The model's output is filtered as it streams: HTML tags, images and script links are removed;
  an answer that repeats the system prompt, or gives an email address, link or code (a discount
  code, a "refund approved" reference) found in none of its sources, is stopped and becomes a
  hand-over.

Nothing here sees other customers' data: support prompts are built only from knowledge-base
passages and this session's own question (and history, for the follow-up rewrite).

Every pattern here runs on outside text, and Python's `re` backtracks while it holds the GIL: the
old "ignore … instructions" rule (`[\w'-]+` and `\W+` both take "-") took 109 s on a 1,995-character
question and froze the whole server. So (issue 21) each pattern does bounded work per place it
starts, and each place is tried once:

* a repeat followed by what it cannot match is possessive (`*+ ++ {m,n}+`, atomic `(?>…)`), and
  parts that could share characters are split so they cannot (the "ignore" rule reads words:
  runs of word characters joined by ' or -, each at most 100 characters);
* a pattern that would read a long run again from each of its characters starts only where the
  run starts (a lookbehind), or, where a match may also resume inside a run, takes the whole run
  when it is no match (`_EMAIL`, `_DOMAIN`, `_IMAGE`, `_BAD_LINK`), so the search goes on after it;
* `OutputGuard.feed` works on what is new: an open tail is looked for from the first place that
  may still open one (a place that cannot becomes none later), checks see the new text and the
  256 characters before it, and markup is stripped from the last unsettled ~500 characters only.

Not a linear-time engine (google-re2): these rules need lookbehind (codes, "(?<![其吉])"), which RE2
lacks; its \w, \b and \s are ASCII, where these rules rely on Python's Unicode ones (Chinese next to
English); and it expands counted repeats ({0,500}) into automata. A length cap alone is no fix
either: 1,050 characters already took 12 s. tests/test_regex_linear.py runs every pattern of the app
on hostile strings of the longest input (failing over 50 ms a call); bench/regex_fuzz.py searches
for slower strings with Hypothesis.
"""

from __future__ import annotations

import bisect
import re

_I = re.IGNORECASE | re.MULTILINE
# Chat-template control tokens (Qwen <|im_start|>, Llama [INST] / <<SYS>>): in text they would be
# read as real turn boundaries by the tokenizer.
SPECIAL_TOKENS = re.compile(r"<\|[^|<>\n]{1,40}+\|>|\[/?INST\]|<<\s*+/?SYS\s*+>>", re.I)

# "ignore … instructions": a verb, up to three words, a keyword, up to two words, a noun. A word is
# a run of word characters joined by ' or - ("bot's", "pre-existing"; at most 100 characters), and
# the gap after it holds another non-word character; or the keyword goes on in the same run after
# an ' or - ("the-previous"). Words and gaps share no characters, so there is one way to read them
# (`\W+(?:[\w'-]+\W+){0,3}?`, which this replaces, had 2^n ways to read "ignore-ignore-…").
_WORD_GAP = r"\w[\w'-]{0,99}+[^\w'-]\W*+"
_TO_KEYWORD = r"(?:\w++['-]++){1,20}?"


def _words_then(n: int) -> str:
    """A gap, then up to n words before the next keyword."""
    return rf"\W++(?:(?:{_WORD_GAP}){{0,{n - 1}}}?(?:{_WORD_GAP}|{_TO_KEYWORD}))??"


# Both in questions and in knowledge-base passages: text that talks to the assistant.
_COMMON = [
    # ignore / override the instructions
    r"\b(ignore|disregard|forget|override|bypass)\b"
    + _words_then(3)
    + r"(previous|prior|above|earlier|preceding|all|your|system|these|those|any|safety)\b"
    + _words_then(2)
    + r"(instructions?|rules|prompts?|guidelines|restrictions|directives)\b",
    r"\b(forget|ignore|disregard)\s++(everything|all)\s++(above|before|previous|prior|you were told)\b",
    r"\b(system|developer|hidden|secret)\s++(prompt|instructions?|rules)\b",
    r"\b(initial|original)\s++(system\s++)?prompt\b",
    r"\b(reveal|print|show|repeat|output|display|dump|leak|translate|recite|tell me)\b[^.\n?]{0,40}\byour\s++"
    r"(instructions|prompt|configuration|system prompt|(hidden|secret|internal) rules)\b",
    r"\b(repeat|print|output|translate|recite|copy)\b[^\n]{0,30}\b(text|everything|all|words?|lines?|messages?)\s++"
    r"(above|before|preceding)\b",
    # role-play and modes
    r"\b(developer|dev|god|admin|debug|jailbreak|unrestricted|dan)\s++mode\b",
    r"\bjailbreak",
    r"\byou are (now|no longer)\s++(a|an|in|the|my|no|dan|free|unrestricted|jailbroken|allowed|able)\b",
    r"\b(pretend|imagine)\s++(to be|you are|you're)\b",
    r"\bfrom now on\W++(you|answer|reply|respond|always|only|act|pretend|say|ignore)\b",
    r"\b(you|ai|assistant|model|bot)\s++(now\s++)?(have|has|with)\s++no\s++(rules|restrictions|limits|filters)\b",
    r"\blet'?s play a game\b",
    r"\bupdate your (knowledge base|faq|rules|instructions)\b",
    r"\brole-?play\b",
    # role labels and instructions to the assistant ([^\S\n]: a line's own indent, not every blank
    # line above it, which made "\n" * 2000 quadratic)
    r"^[^\S\n]*+(system|assistant|ai assistant|ai|developer|admin|administrator|user|human)\s*+[:：]",
    r"\b(ai assistant|assistant|chatbot|language model|llm|ai)\s*+[:：,]\s*+(please\s++)?(ignore|disregard|forget|"
    r"you must|always|never)\b",
    r"\bnote to (the )?(ai|assistant|model|chatbot|llm)\b",
    r"\b(end|start|begin|finish)\s++(every|each|all|your)\s++(answers?|repl(y|ies)|responses?|messages?)\b",
    r"\b(reply|respond|answer)\s++with\s++exactly\b",
    r"\b(confirm|acknowledge)\s++(this\s++)?by\s++(replying|saying|typing|writing)\b",
    # chat-template tokens, HTML and script payloads, markdown images
    SPECIAL_TOKENS.pattern,
    r"<\s*+/?\s*+(script|iframe|img|svg|object|embed|style|link|meta|form|input)\b",
    r"\bon(error|load|click|mouseover|focus)\s*+=",
    r"\b(javascript|vbscript)\s*+:",
    r"!\[[^\]\n!]*+(?:!(?!\[)[^\]\n!]*+)*+\]\(",  # read from the last "![" before "](": once each
    # 中文（简体/繁體）
    r"(忽略|无视|無視|忽视|忽視|不要理会|不要理會|绕过|繞過)[^。！？\n]{0,20}"
    r"(指令|指示|规则|規則|提示词|提示詞|设定|設定|限制)",
    r"(系统|系統)(指令|设定|設定)|提示词|提示詞",
    r"(隐藏|隱藏)的?(规则|規則|指令|内容|內容|设定|設定)",
    r"(开发者|開發者|管理员|管理員|调试|調試|上帝|无限制|無限制)模式|越狱|越獄",
    r"你现在是|你現在是|假装你是|假裝你是|(请|請|你)(来|來)?扮演|你(现在|現在)?不受任何",
    r"(从现在开始|從現在開始|从现在起|從現在起)[，,]?\s*+(你|请|請|回答|只|都)",
    r"(重复|重複|输出|輸出|打印|复述|複述|翻译|翻譯)[^。！？\n]{0,20}(上面|以上|前面|之前|第一条|第一條|收到的)",
    r"(上面|以上|前面)的?(全部|所有)?(内容|內容|文字|对话|對話|消息|訊息|指令)",
    r"以后[^。！？\n]{0,6}(按|照)(这个|這個|此)|以後[^。！？\n]{0,6}(按|照)(这个|這個|此)|新的\s*+(FAQ|规则|規則|指令)",
    r"^[^\S\n]*+(系统|系統|助手|AI助手|用户|用戶|使用者|管理员|管理員)\s*+[:：]",
    r"[【\[]\s*+(系统|系統|管理员|管理員)",
    r"(AI|人工智能)?助手\s*+[:：，,]\s*+(忽略|无视|無視|你要|必须|必須|总是|總是)",
    r"(每个|每個|所有|每条|每條)?(回答|回复|回覆)的?(末尾|結尾|结尾|最后|最後|开头|開頭)",
]
# Only in questions: fake prompt structure, reaching other people's data, switching off the policy.
_QUESTION = [
    r"^[^\S\n]*+\[\d++\]\s*+\(",
    r"^[^\S\n]*+(sources?|customer question|context|资料|資料|来源|來源|客户问题|客戶問題)\s*+[:：]",
    r"\b(other|another)\s++(customers?|users?|members?|people|clients?|shoppers?)'?s?\b[^.\n]{0,40}\b"
    r"(tickets?|orders?|e-?mails?|addresses|details|data|conversations?|chats?|questions|asked|messages|phones?|"
    r"records)\b",
    r"\b(all|every)\s++(customers?|users?|members?|people|clients?|shoppers?)'?s?\b[^.\n]{0,40}\b"
    r"(tickets?|e-?mails?|addresses|conversations?|chats?|phones?|records|personal data)\b",
    r"\b(list|show|print|dump|export)\b[^.\n]{0,30}\b((support|customer|all|other|open)\s++tickets|conversations|"
    r"chat (logs|history)|customer (list|data|e-?mails|records))\b",
    r"\b(her|his|their|someone else'?s|another customer'?s)\s++(support\s++)?"
    r"(ticket|order|account|conversation|chat)s?\b",
    r"\b(conversation|chat)s?\s++(titled|called|named)\b",
    r"\bwithout\s++(citing|using|any|quoting)\s++(any\s++)?(sources|citations|references)\b",
    r"\b(don'?t|do not|never)\s++(hand|transfer|pass|escalate|refer)\b[^.\n]{0,20}\b"
    r"(human|person|agent|staff|someone)\b",
    r"\b(don'?t|do not|never)\s++(use|cite|check|consult)\s++(your\s++|any\s++)?(sources|knowledge base|faq|documents)\b",
    r"\bfrom your own knowledge\b",
    r"\bnever say (you|that you) (don'?t|do not) know\b",
    r"\b(admin|administrator|database|db|root|server)\s++(password|credentials|login)s?\b|\bconnection string\b",
    r"((其他|其它|别的|別的)(客户|客戶|用户|用戶|会员|會員|顾客|顧客|人)|别人|別人)[^。！？\n]{0,20}"
    r"(工单|工單|订单|訂單|邮箱|郵箱|电子邮件|電子郵件|地址|电话|電話|对话|對話|聊天|问题|問題|信息|資訊|资料|資料)",
    r"所有(客户|客戶|用户|用戶|会员|會員|顾客|顧客|人)[^。！？\n]{0,20}"
    r"(工单|工單|邮箱|郵箱|电子邮件|電子郵件|地址|电话|電話|对话|對話|聊天记录|聊天記錄|个人信息|個人資料)",
    r"(?<![其吉])(她|他|别人|別人|其他人)的?[^。！？\n，,]{0,8}(工单|工單|订单|訂單|账户|帳戶|账号|帳號)",
    r"(显示|顯示|给我看|給我看|打印|导出|導出|列出|发给我|發給我)[^。！？\n]{0,30}(聊天记录|聊天記錄|对话记录|對話記錄|工单|工單)",
    r"不要(转|轉)人工|不(用|要)(引用|查)(任何)?(来源|來源|资料|資料)|(凭|憑)你自己的(知识|知識)|不要(说|說)你不知道",
    r"(后台|後台|数据库|數據庫|資料庫|管理员|管理員)[^。\n]{0,10}(密码|密碼|账号|帳號)",
]
# Only in knowledge-base passages: instructions on what to tell customers.
_SOURCE = [
    r"\b(ai assistant|assistant|chatbot|language model|llm|ai)\s*+[:：,]\s*+(please\s++)?(tell|say|reply|respond|answer)\b",
    r"(AI|人工智能)?助手\s*+[:：，,]\s*+(请|請|告诉|告訴)",
    r"\btell (the )?(customers?|users?|people|them|visitors)\s++to\b",
    r"\b(e-?mail|send|give|share|submit)\b[^.\n]{0,40}\bpasswords?\b",
    r"(告诉|告訴|让|讓|要求)(客户|客戶|用户|用戶|顾客|顧客)[^。\n]{0,20}(密码|密碼|发送|發送|邮件|郵件)",
    r"(发送|發送|发到|發到|提供|告诉|告訴)[^。\n]{0,15}(密码|密碼)",
]
QUESTION_INJECTION = re.compile("|".join(f"(?:{p})" for p in _COMMON + _QUESTION), _I)
SOURCE_INJECTION = re.compile("|".join(f"(?:{p})" for p in _COMMON + _SOURCE), _I)

# Markup the model (or a passage) might produce; reduced to its text.
_TAG = re.compile(r"</?\s*+[A-Za-z][^<>]{0,500}+>")
_PARENS = r"[^()\n]*+(?:\([^()\n]*+\)[^()\n]*+)*+\)"  # up to the closing ")", one level of (...) inside
# From the first "[" of a run to its "]", then the link if one follows (group 2): where none does,
# the run is passed over whole instead of read again from each "[" in it ("[[[[…" was quadratic).
_IMAGE = re.compile(r"!\[([^\]\n]*+)(\]\(" + _PARENS + ")?")
_BAD_LINK = re.compile(r"\[([^\]\n]*+)(\]\(\s*+(?:javascript|vbscript|data)\s*+:" + _PARENS + ")?", re.I)
_BAD_SCHEME = re.compile(r"\b(javascript|vbscript)\s*+:", re.I)
# A construct at the end of a stream that may still become markup: held back until it closes (a
# link's target for at most 500 characters). Every prefix of such a tail is one too, so a place
# where none starts now never starts one later.
_OPEN_TAIL = re.compile(
    r"(?:<|<[A-Za-z/!][^<>\n]{0,500}+|<\|[^|<>\n]{0,40}+\|?+|!|"
    r"!?\[[^\]\n]{0,200}+(?:\]|\]\((?=[^\n]{0,500}+$)(?:[^()\n]++|\([^()\n]*+\)?+)*+)?)$"
)
# Contact details and links: an answer may only give those its sources give. _EMAIL and _DOMAIN
# take a whole run that is no address as a match without group 1 (see the module's docstring).
_EMAIL = re.compile(r"[\w.+-]++(@[\w-]++(?:\.[\w-]++)+)?")
_AT_RUN = re.compile(r"(?<![\w.+@-])[\w.+-]*+@[\w.+@-]*+")  # the runs an address can be in
_URL = re.compile(r"\b(?:https?://|www\.)[^\s<>()\[\]\"'，。、；）]++", re.I)
_DOMAIN = re.compile(
    r"\b(?:((?:[a-z0-9-]++\.)+(?:com|net|org|io|co|cn|hk|tw|info|biz|xyz|ru|top|example|app|dev|me|ly)\b)"
    r"|(?=[a-z0-9]*+[.-])[a-z0-9-]++(?:\.[a-z0-9-]++)*+)",  # (a plain word has no other place to start)
    re.I,
)
_TLD = re.compile(r"\.(?:com|net|org|io|co|cn|hk|tw|info|biz|xyz|ru|top|example|app|dev|me|ly)\b", re.I)
# Codes (discount codes, confirmations, references: "REFUND-APPROVED-100482", "VIP-FREE-"): likewise.
_CODE = re.compile(r"(?<![A-Za-z0-9_-])[A-Z][A-Z0-9]++(?:-[A-Z0-9]++)++-?+(?![A-Za-z0-9_-])")
# The end of a stream that may still grow into an address, a link or a code: held back until it
# is whole. None goes on over a space or a bracket (_KILL); the link starts with _URL_START, the
# others are runs of ASCII letters, digits and _.+@- and start where such a run starts.
_KILL = re.compile(r"[\s()\[\]<>]")
_URL_START = re.compile(r"https?:|www\.")
_ASCII = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.+@-"
_TAIL_EMAIL = re.compile(r"(?<![A-Za-z0-9_.+-])[A-Za-z0-9_.+-]*+@[A-Za-z0-9_.-]*+$")
_TAIL_HOST = re.compile(r"(?<![A-Za-z0-9_.-])\.*+([A-Za-z0-9_-]++(?:\.[A-Za-z0-9_-]*+)+)$")
_TAIL_CODE = re.compile(r"(?<![A-Z0-9-])[0-9-]*+([A-Z][A-Z0-9-]*+)$")
CARRY = 256  # characters before the new text that the stream's checks see again
TAIL_ROUNDS, TAIL_WINDOW = 4, 256  # how often, and how far back, a tail is looked for before a tail
CONTACT_MAX = 512  # an address, link or code held back is at most this long (a longer one shows as it comes)
SETTLE = 512  # unsettled text beyond this is settled (its markup stripped for good)


def injection_in_question(question: str) -> str | None:
    """The part of a question that gives the assistant instructions, or None."""
    m = QUESTION_INJECTION.search(question)
    return m.group(0) if m else None


def clean_passage(text: str) -> str:
    """A knowledge-base passage as data for the prompt and the sources list: lines that give the
    assistant instructions are cut (replaced by "[…]"), markup reduced to text, control tokens removed."""
    lines: list[str] = []
    for line in text.split("\n"):
        if SOURCE_INJECTION.search(line):
            if lines and lines[-1] == "[…]":
                continue
            line = "[…]"
        lines.append(strip_markup(line))
    return "\n".join(lines).strip()


def has_content(text: str) -> bool:
    return bool(re.sub(r"\[…\]|\W", "", text))


def _text_if_link(m: re.Match) -> str:
    return m.group(1) if m.group(2) is not None else m.group(0)


def strip_markup(text: str) -> str:
    """HTML tags removed, images reduced to their alt text, javascript:/data: links to their text."""
    if "<" in text or "[" in text:  # (each test only skips a pattern that could not match)
        text = SPECIAL_TOKENS.sub("", text)
        text = _IMAGE.sub(_text_if_link, text) if "![" in text else text
        text = _BAD_LINK.sub(_text_if_link, text) if "[" in text else text
        text = _TAG.sub("", text) if "<" in text else text
    return _BAD_SCHEME.sub(lambda m: m.group(1) + " ", text) if ":" in text else text


def contacts(text: str) -> set[str]:
    """Email addresses, and the host names of links and bare domains, in text (lower case)."""
    found = {
        m.group(0).rstrip(".,;:!?-").lower()
        for run in _AT_RUN.findall(text)
        for m in _EMAIL.finditer(run)
        if m.group(1)
    }
    for m in _URL.finditer(text):
        host = re.sub(r"^(https?://)?(www\.)?", "", m.group(0).lower()).split("/")[0].split("?")[0]
        found.add(host.rstrip(".,;:!?"))
    if _TLD.search(text):
        found |= {m.group(1).lower() for m in _DOMAIN.finditer(text) if m.group(1)}
    return {f for f in found if f}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9_]+", text.lower())


class OutputGuard:
    """Filters a tier-2 answer as it streams. feed(chunk) returns the text that is safe to show now;
    end() the rest. After `blocked` is set (with the reason) nothing more is shown.

    Each feed costs about the new text, not the whole answer (a 2,000-token answer in one-token
    chunks took seconds when every chunk re-read everything): raw[:_checked] has passed problem();
    raw[:_base] is settled, its markup stripped and shown for good; every place before _open_from
    can no longer start markup; _kills and _links are the places of spaces and brackets and of link
    starts so far."""

    def __init__(self, system_prompt: str, sources: str, rule_phrases=(), ngram: int = 6):
        words = _words(system_prompt)
        self.ngram = ngram
        self.grams = {tuple(words[i : i + ngram]) for i in range(len(words) - ngram + 1)}
        self.rule_phrases = [p.lower() for p in rule_phrases]
        self.allowed = sources.lower()
        self.raw = ""
        self.blocked = ""
        self._checked = 0
        self._base = 0
        self._settle_at = SETTLE  # the next try to settle: when the unsettled text is this long
        self._live_shown = ""  # shown text of raw[_base:]
        self._open_from = 0
        self._kills: list[int] = []
        self._links: list[int] = []

    def problem(self, text: str) -> str:
        low = text.lower()
        said = _words(text)
        if any(tuple(said[i : i + self.ngram]) in self.grams for i in range(len(said) - self.ngram + 1)) or any(
            p in low for p in self.rule_phrases
        ):
            return "the answer repeated the assistant's instructions"
        if SPECIAL_TOKENS.search(text):
            return "the answer contained chat control tokens"
        ungrounded = sorted(c for c in contacts(text) if c not in self.allowed)
        if ungrounded:
            return f"the answer gave contact details or links not in its sources ({', '.join(ungrounded)[:80]})"
        codes = sorted({c for c in _CODE.findall(text) if c.lower() not in self.allowed})
        if codes:
            return f"the answer gave a code not in its sources ({', '.join(codes)[:80]})"
        return ""

    def _held_from(self) -> int:
        """Where the held-back tail starts. As `$` allows, a tail may end before a last line break.
        Markup still open is found from the first place that may still open some; then an address,
        link or code just before it; then, in what is left, again (at most TAIL_ROUNDS times, in its
        last TAIL_WINDOW characters): "x.y<", or "![a]( [" whose "[" turned out to be inside the link."""
        raw = self.raw
        m = _OPEN_TAIL.search(raw, self._open_from)
        self._open_from = m.start() if m else len(raw)
        cut = self._contact_tail(self._open_from)
        for _ in range(TAIL_ROUNDS):
            if cut <= self._base:
                break
            m = _OPEN_TAIL.search(raw, max(0, cut - TAIL_WINDOW), cut)
            before = self._contact_tail(m.start() if m else cut)
            if before == cut:
                break
            cut = before
        return cut

    def _contact_tail(self, end: int) -> int:
        """Where an address, link or code that may still grow ends raw[:end] (else end)."""
        raw = self.raw
        last = end - 1 if end and raw[end - 1] == "\n" else end  # the tail ends here
        kill = bisect.bisect_left(self._kills, last)  # spaces and brackets before `last`
        start = max(self._kills[kill - 1] + 1 if kill else 0, last - CONTACT_MAX)
        if start >= last:
            return end
        held = end
        link = bisect.bisect_left(self._links, start)
        if link < len(self._links) and self._links[link] < last:
            held = self._links[link]
        run_start = start + len(raw[start:last].rstrip(_ASCII))
        for tail in (_TAIL_EMAIL, _TAIL_HOST, _TAIL_CODE):
            if t := tail.search(raw, run_start, last):
                held = min(held, t.start(t.lastindex or 0))
        return held

    def _note(self, chunk: str) -> None:
        """Record where the new text has spaces, brackets and link starts."""
        offset = len(self.raw) - len(chunk)
        self._kills += [offset + m.start() for m in _KILL.finditer(chunk)]
        since = max(0, offset - 7)  # a link start cut by the chunk's edge ("htt" + "ps:")
        for m in _URL_START.finditer(self.raw, since):
            if not self._links or m.start() > self._links[-1]:
                self._links.append(m.start())

    def _check(self, end: int) -> str:
        """problem() of raw[:end], reading only what is new since the last check (and CARRY before)."""
        if end <= self._checked:
            return ""
        low = max(0, self._checked - CARRY)
        kill = bisect.bisect_left(self._kills, low)  # start after a space or a bracket when one is near
        if kill and self._kills[kill - 1] >= low - CARRY:
            low = self._kills[kill - 1] + 1
        self._checked = end
        return self.problem(self.raw[low:end])

    def _settle(self, end: int, clean: str) -> None:
        """Move _base forward when the unsettled text grows long, where stripping markup from
        the two parts apart gives what stripping it from the whole gave."""
        if end - self._base <= self._settle_at:
            return
        self._settle_at = end - self._base + CARRY  # if this try fails, the next one after CARRY more
        cut = end - CARRY
        kill = bisect.bisect_right(self._kills, cut - 1)
        if kill and self._kills[kill - 1] >= self._base + CARRY:
            cut = self._kills[kill - 1] + 1
        before = strip_markup(self.raw[self._base : cut]).replace("[…]", "")
        if clean.startswith(before) and before + strip_markup(self.raw[cut:end]).replace("[…]", "") == clean:
            self._base, self._live_shown, self._settle_at = cut, self._live_shown[len(before) :], SETTLE

    def feed(self, chunk: str, final: bool = False) -> str:
        if self.blocked:
            return ""
        self.raw += chunk
        self._note(chunk)
        # hold back markup, an address or a link that is still being written
        end = len(self.raw) if final else max(self._held_from(), self._base)
        problem = self.problem(self.raw) if final else self._check(end)
        if problem:
            self.blocked = problem
            return ""
        clean = strip_markup(self.raw[self._base : end]).replace(
            "[…]", ""
        )  # where instructions were cut from a passage
        if not clean.startswith(self._live_shown):  # cannot happen with the tail held back; never un-show text
            return ""
        out, self._live_shown = clean[len(self._live_shown) :], clean
        self._settle(end, clean)
        return out

    def end(self) -> str:
        return self.feed("", final=True)
