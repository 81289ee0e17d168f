"""Find the reporters credited in an article's dateline: 财联社4月29日讯（记者 黄靖斯）.

Pure Python, no Django: it runs on every save and inside the import, so it
looks only at the first and last few hundred characters of the body, with
precompiled patterns (a few microseconds an article; see docs/BENCHMARKS.md).

What counts as a byline (precision over recall: when in doubt, nothing):

* A credit in parentheses — ``（记者 张三）``, ``（记者 张三 李四）``,
  ``（记者 张三、李四）``, ``（记者 张勤峰 实习记者 连润）``,
  ``（深圳，记者 邹晨辉、高云）``, ``（财联社记者 张晓翀）`` — near the start
  of the text (the dateline), or near its end (the sign-off some wires use:
  ``……（记者 闫军）``).
* Roles: 记者, 实习记者, 见习记者, 首席记者, 特约记者, 通讯员, and 编辑.
  编辑 counts only in the dateline: 财联社 credits the editor who compiled a
  story from foreign sources there (``财联社7月4日讯（编辑 潇湘）``), and
  that editor is the story's only author. Desk editors at the foot
  (``责任编辑：尹悦``, ``责编：…``, ``（编辑 …）`` at the end) are not bylines.
* Names: two or three Chinese characters, four when the surname is a
  compound one (欧阳剑环), or a minority name with a middle dot (阿不都·热合曼).
  Anything else inside the parentheses — a photo credit (摄), an English
  name, a word that is not a name — rejects the whole credit.

Not detected (too ambiguous to tell from prose): ``文/张三``, ``作者：张三``,
``每经记者 张三`` without parentheses.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

# How much of the body is read, in HTML characters and then in text characters.
HEAD_HTML_CHARS = 1500
TAIL_HTML_CHARS = 1500
HEAD_TEXT_CHARS = 260
TAIL_TEXT_CHARS = 220
MAX_BYLINES = 8

# Longest first, so 实习记者 is not read as 实习 + 记者.
ROLES = ("实习记者", "见习记者", "首席记者", "特约记者", "记者", "通讯员", "编辑")
DATELINE_ONLY_ROLES = frozenset({"编辑"})

COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 令狐 端木 独孤 南宫 "
    "西门 轩辕 澹台 公冶 宗政 濮阳 淳于 单于 太叔 申屠 钟离 闻人 赫连 呼延 百里 东郭 万俟 "
    "司空 左丘 第五 梁丘 拓跋 谷梁 公羊 亓官 乐正 漆雕 壤驷 公西 巫马 段干 仲孙".split()
)

# Common single-character surnames. Checked only where the name runs on from
# the role without a space (记者欧阳剑环): there a word such as 记者发稿 or 记者手记
# would otherwise read as a name. Where a space separates them, pen names
# (编辑 潇湘) are taken as written.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
    "向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌"
    "毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦"
    "麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩"
    "明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼满闻位厉伊仝区郜海阚花权强帅"
    "屠豆朴盖练廉禹井祖漆巴丰支卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊阿乌母裘亓修"
    "邰赫杭况那宿鲜印逯隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡"
    "富尧闭由傅钮"
)
# An outlet before the role ends like one: 财联社记者, 本报记者, 每经记者, 界面新闻记者.
_OUTLET_ENDINGS = tuple("社报网台刊闻经道财视")

# Words that can follow the names without being one: 报道 (reports), 发自北京 (from Beijing).
_TRAILERS = re.compile(r"(?:\s*(?:综合报道|报道|发自[\u4e00-\u9fff]{1,6}|采写|整理))+$")
# A photo credit (记者 张三 摄) is a caption, not the story's byline.
_PHOTO = re.compile(r"(?:摄影?|图)$")

_TAG = re.compile(r"<[^>]*>")
_PARTIAL_TAG_END = re.compile(r"<[^>]*$")
_PARTIAL_TAG_START = re.compile(r"^[^<]*>")
_CREDIT = re.compile(r"\(([^()]{3,60})\)")
_ROLE_SPLIT = re.compile("(" + "|".join(ROLES) + ")")
_NAME_SEPARATORS = re.compile(r"[\s、,/;|]+")
_HAN_NAME = re.compile(r"^[\u4e00-\u9fff]{2,4}$")
_DOTTED_NAME = re.compile(r"^[\u4e00-\u9fff]{1,6}[·•・][\u4e00-\u9fff]{1,8}$")
# Before the first role: nothing, a place and a comma (深圳，记者), and/or the outlet (财联社记者).
_PREFIX = re.compile(r"^(?:[\u4e00-\u9fffA-Za-z]{1,10},)?([\u4e00-\u9fffA-Za-z0-9]{0,12})$")


@dataclass(frozen=True)
class Byline:
    role: str
    name: str

    def __str__(self) -> str:
        return f"{self.role} {self.name}"


def detect(body_html: str) -> list[Byline]:
    """The bylines credited in `body_html`'s dateline or sign-off, in order, each name once."""
    if not body_html:
        return []
    head_html = body_html[:HEAD_HTML_CHARS]
    found: list[Byline] = []
    if _may_credit(head_html):
        head = _text(_PARTIAL_TAG_END.sub("", head_html), head=True)
        found += _credits_in(head, dateline=True)
    if len(body_html) > HEAD_TEXT_CHARS:
        # The sign-off; on a short body this is the dateline again, and found once.
        tail_html = body_html[-TAIL_HTML_CHARS:]
        if _may_credit(tail_html):
            if len(body_html) > TAIL_HTML_CHARS:
                tail_html = _PARTIAL_TAG_START.sub("", tail_html)
            found += _credits_in(_text(tail_html, head=False), dateline=False)
    seen: set[str] = set()
    unique = []
    for byline in found:
        if byline.name not in seen:
            seen.add(byline.name)
            unique.append(byline)
    return unique[:MAX_BYLINES]


def credits(body_html: str) -> list[tuple[str, str]]:
    """`detect`'s bylines as (role, name) pairs, the form they are stored in."""
    return [(byline.role, byline.name) for byline in detect(body_html)]


def _may_credit(fragment: str) -> bool:
    """A cheap first look: no role word or no parenthesis means no credit to parse."""
    return ("(" in fragment or "\uff08" in fragment) and (
        "记者" in fragment or "编辑" in fragment or "通讯员" in fragment)


# Full-width punctuation and spaces folded to ASCII, so one pattern reads both
# (str.replace per character: str.translate or NFKC would cost more than the rest).
_FOLD = (("\uff08", "("), ("\uff09", ")"), ("\uff0c", ","), ("\u3000", " "), ("\u00a0", " "),
         ("\uff0f", "/"), ("\uff1b", ";"), ("\uff5c", "|"), ("\u2022", "•"), ("\u30fb", "·"))


def _text(fragment: str, head: bool) -> str:
    text = _TAG.sub("", fragment)
    text = text[:HEAD_TEXT_CHARS] if head else text[-TAIL_TEXT_CHARS:]
    if "&" in text:
        text = html.unescape(text)
    for wide, narrow in _FOLD:
        if wide in text:
            text = text.replace(wide, narrow)
    return text


def _credits_in(text: str, *, dateline: bool) -> list[Byline]:
    bylines: list[Byline] = []
    for match in _CREDIT.finditer(text):
        credit = parse_credit(match.group(1))
        if credit and (dateline or not any(b.role in DATELINE_ONLY_ROLES for b in credit)):
            bylines.extend(credit)
    return bylines


def parse_credit(inner: str) -> list[Byline]:
    """The bylines of one parenthesised credit (without its parentheses), or [] if it is not one."""
    parts = _ROLE_SPLIT.split(unicodedata.normalize("NFKC", inner).strip())
    prefix, rest = parts[0].replace(" ", ""), parts[1:]
    outlet = _PREFIX.match(prefix)
    if not rest or not outlet or (outlet.group(1) and not outlet.group(1).endswith(_OUTLET_ENDINGS)):
        return []
    bylines: list[Byline] = []
    for role, names_text in zip(rest[::2], rest[1::2]):
        run_on = not names_text[:1].isspace()
        names_text = _TRAILERS.sub("", names_text.strip())
        if _PHOTO.search(names_text):
            return []
        names = [n for n in _NAME_SEPARATORS.split(names_text) if n]
        if not names or not all(is_name(n) for n in names):
            return []
        if run_on and not all(_has_surname(n) for n in names):
            return []
        bylines.extend(Byline(role, name) for name in names)
    return bylines


def is_name(token: str) -> bool:
    """A plausible Chinese personal name (see the module docstring)."""
    if _DOTTED_NAME.match(token):
        return True
    if not _HAN_NAME.match(token):
        return False
    # Four characters are two names run together (张三李四) unless the surname is compound.
    return len(token) < 4 or token[:2] in COMPOUND_SURNAMES


def _has_surname(name: str) -> bool:
    return name[0] in SURNAMES or name[:2] in COMPOUND_SURNAMES or bool(_DOTTED_NAME.match(name))


def format_credit(bylines: list[tuple[str, str]]) -> str:
    """As a dateline prints them: 记者 张勤峰 实习记者 连润 (a role once for a run of names)."""
    out: list[str] = []
    last_role = None
    for role, name in bylines:
        if role != last_role:
            out.append(role)
            last_role = role
        out.append(name)
    return " ".join(out)
