"""Synthetic Hexo posts in the format of the real feeds, for benchmarks, load tests and `make demo`.

`write_corpus(out_dir, count, seed)` writes `count` post files that look like
the RSS-to-Hexo mirrors the importer was built for (see seeds/): YAML front
matter with a single-quoted title, a flat `categories` list (one chain) or a
list of lists (several chains), an RFC 2822 date, then a `<div>` body that is
either HTML paragraphs with a bold dateline or wire-style plain text with raw
line breaks. With `markdown=True` the same stories are written as Markdown
posts (`.md`, as a Hexo blog keeps them): headings, bold datelines, lists,
tables, quotes, images and links in Markdown, no `<div>`.

Same `seed`, same bytes: every random choice comes from `random.Random`
instances derived from the seed, and nothing iterates a set or dict of strings
(whose order changes with hash randomisation). No Django: the benchmark and
the tests can import this without settings.

Speed matters (100,000 files in well under a minute): sentences, titles and
list items are filled in once per corpus (a `Phrasebook`), and each post draws
whole sentences with one `choices()` call per paragraph; the post's subject
company is substituted afterwards with `str.replace`, so text still varies
from post to post.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import os
import random
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Iterator, Sequence

# Dates are spread uniformly over these ten years (UTC).
FIRST_YEAR = 2015
LAST_YEAR = 2024
_EPOCH_START = int(dt.datetime(FIRST_YEAR, 1, 1, tzinfo=dt.timezone.utc).timestamp())
_EPOCH_END = int(dt.datetime(LAST_YEAR + 1, 1, 1, tzinfo=dt.timezone.utc).timestamp())

# China has kept UTC+8 without daylight saving since 1991, so a fixed offset is
# exact for datelines ("财联社4月29日讯") and needs no zoneinfo lookups.
_BEIJING = dt.timezone(dt.timedelta(hours=8))

DUPLICATE_SHARE = 0.01  # files that repeat another file's story under a new name
TAGGED_SHARE = 1 / 3
MULTI_CHAIN_SHARE = 0.06
SENTENCE_POOL_SIZE = 8000
TITLE_POOL_SIZE = 3000
LIST_ITEM_POOL_SIZE = 1000
# Placeholder for the post's subject company in pooled sentences: a private-use
# character, so a slip would still leave a valid text file.
_SUBJECT = "\ue000"

# --- vocabulary ---------------------------------------------------------------

BROKERS = (
    "华林证券", "湘财证券", "中信证券", "国泰君安", "华泰证券", "招商证券", "广发证券", "海通证券",
    "银河证券", "国信证券", "东北证券", "兴业证券", "光大证券", "方正证券", "长江证券", "申万宏源",
    "中金公司", "东方证券", "国金证券", "财通证券", "浙商证券", "中泰证券", "第一创业", "天风证券",
)
TECH_FIRMS = (
    "腾讯", "阿里巴巴", "字节跳动", "火山引擎", "巨量引擎", "百度", "京东", "美团", "小米集团", "华为",
    "商汤科技", "网易", "快手", "拼多多", "中芯国际", "海康威视", "科大讯飞", "金山办公", "同花顺",
    "东方财富", "恒生电子", "益盟股份", "大智慧", "蚂蚁集团", "微众银行",
)
LISTED_FIRMS = (
    "宁德时代", "比亚迪", "隆基绿能", "贵州茅台", "五粮液", "招商银行", "平安银行", "工商银行",
    "中国平安", "万科A", "格力电器", "美的集团", "迈瑞医疗", "药明康德", "恒瑞医药", "紫金矿业",
    "中国神华", "长江电力", "三一重工", "通威股份", "阳光电源", "亿纬锂能", "北方华创", "韦尔股份",
    "蔚来", "理想汽车", "小鹏汽车", "长城汽车", "海天味业", "伊利股份", "穆迪(Moody's)",
)
COMPANIES = BROKERS + TECH_FIRMS + LISTED_FIRMS
REPORTERS = (
    "黄靖斯", "成孟琦", "林坚", "王晨", "李佳", "张晓", "陈佳怡", "刘洋", "赵静", "孙越", "吴琼",
    "周晓雅", "郑阳", "何柳", "罗鑫", "谢斌", "高晨曦", "梁施婷", "宋子乔", "唐植潇",
)
SECTORS = (
    "证券板块", "银行板块", "保险板块", "半导体板块", "新能源汽车板块", "光伏板块", "白酒板块",
    "医药板块", "房地产板块", "军工板块", "有色金属板块", "煤炭板块", "人工智能概念股",
    "数字货币概念股", "元宇宙概念股", "储能板块", "消费电子板块", "高股息板块",
)
INDICES = (
    "上证指数", "深证成指", "创业板指", "科创50", "沪深300", "中证500", "恒生指数", "恒生科技指数",
    "纳斯达克指数", "道琼斯指数", "标普500指数",
)
REGULATORS = (
    "证监会", "央行", "银保监会", "国家统计局", "财政部", "国家发改委", "工信部", "上交所", "深交所",
    "港交所", "北交所", "国务院金融委", "中证协",
)
BUSINESS_LINES = (
    "财富管理", "投顾业务", "经纪业务", "自营业务", "投行业务", "资管业务", "两融业务", "衍生品业务",
    "机构业务", "研究业务", "信息技术服务", "内容服务", "研发中台", "数据中台", "数字化解决方案",
)
# What a company reports, and what the market or a regulator reports.
METRICS = ("营业收入", "归母净利润", "净利润", "经营性现金流", "研发投入", "IT投入", "财富管理收入")
MARKET_METRICS = ("成交额", "融资余额", "北向资金净流入", "两融余额", "基金发行份额", "社会融资规模", "M2")
REGIONS = ("北京", "上海", "深圳", "广州", "杭州", "南京", "成都", "武汉", "苏州", "合肥", "西安", "重庆")
POLICIES = (
    "全面实行股票发行注册制", "降低存款准备金率0.25个百分点", "优化再融资监管安排",
    "规范证券公司互联网开户业务", "推动公募基金费率改革", "加强上市公司退市监管",
    "支持民营企业债券融资", "完善个人养老金制度", "促进平台经济规范健康发展",
    "加快建设全国统一大市场", "推进数字人民币试点", "稳妥推进房地产市场风险化解",
)
TAGS = (
    "券商", "金融科技", "A股", "港股", "美股", "IPO", "并购重组", "业绩", "年报", "季报", "北向资金",
    "新能源", "半导体", "人工智能", "数字化转型", "监管", "货币政策", "ETF", "公募基金", "私募",
    "房地产", "消费", "汽车", "光伏", "储能", "宏观经济", "注册制", "科创板", "北交所", "TikTok",
)

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


@dataclass(frozen=True)
class Source:
    """One feed: who writes it, where it files posts, and what its bodies look like."""

    author: str
    chain: tuple[str, ...]
    style: str  # "feature" | "indented" | "html_brief" | "telegraph" | "flash"
    min_chars: int
    max_chars: int
    weight: int
    images: str  # "cls" (img.cls.cn), "picsum" or "none"


SOURCES = (
    Source("财联社", ("金融", "财联社", "深度"), "feature", 2000, 8000, 12, "cls"),
    Source("财联社", ("金融", "财联社", "电报"), "telegraph", 300, 1000, 30, "none"),
    Source("中证网", ("金融", "中证网", "资讯"), "indented", 600, 4000, 14, "picsum"),
    Source("证券时报网", ("金融", "证券时报网", "快讯"), "html_brief", 300, 1500, 10, "picsum"),
    Source("36kr", ("科技", "36kr", "快讯"), "flash", 300, 1200, 10, "picsum"),
    Source("新浪财经", ("金融", "新浪财经", "国内财经"), "indented", 800, 5000, 8, "picsum"),
    Source("每经网", ("金融", "每经网", "公司"), "feature", 1000, 6000, 6, "picsum"),
    Source("华尔街见闻", ("金融", "华尔街见闻", "全球市场"), "flash", 300, 1500, 5, "picsum"),
    Source("36kr", ("科技", "人工智能"), "flash", 300, 1500, 3, "picsum"),
    Source("证券时报网", ("财经", "宏观"), "html_brief", 400, 2500, 2, "picsum"),
)
_SOURCE_CUM_WEIGHTS = tuple(itertools.accumulate(s.weight for s in SOURCES))

# Second chains for the posts filed under several categories (list of lists).
EXTRA_CHAINS = (
    ("科技", "金融科技"), ("金融", "券商"), ("科技", "人工智能"), ("宏观", "政策"),
    ("新能源", "汽车"), ("金融", "财联社", "电报"), ("科技", "36kr", "快讯"),
)

# Sentence templates. Slots are filled when the pool is built; {co} stays as a
# placeholder and becomes the post's subject company.
SENTENCES = (
    "{co}发布公告称，公司拟斥资{amt}亿元与{tech}达成合作协议，合作范围集中在{line}等领域。",
    "据悉，{co}此前也与{broker}和{broker2}达成合作，不过其中一项合作已宣告终止。",
    "有券商网金人士认为，券商目前与第三方技术平台合作主要存在两大难点，一是与业务结合度不高，二是存在合规问题。",
    "今日{sector}集体反攻，{co}股价率先冲上涨停板，{firm}、{firm2}等大涨逾{move}%。",
    "{co}一季度实现{metric}{amt}亿元，同比增长{pct}%，归属上市公司股东的净利润{amt2}亿元。",
    "从{line}来看，{co}近年来持续加大投入，去年全年{metric}达{amt}亿元，位居行业前列。",
    "截至收盘，{index}报{points}点，涨{small}%；{index2}报{points2}点，跌{small2}%，两市成交额{amt3}亿元。",
    "{regulator}表示，将{policy}，进一步提升资本市场服务实体经济的能力。",
    "{region}某券商网金负责人向记者表示，目前公司并未与{tech}开展合作，原因是其方案中的很多产品已能自给自足。",
    "在业内人士看来，{line}的竞争正在从拼价格转向拼服务，头部机构的优势将进一步扩大。",
    "数据显示，{month}月以来{sector}累计上涨{move}%，跑赢{index}约{small}个百分点。",
    "{co}相关负责人在接受采访时称，公司将围绕{line}与{line2}持续推进数字化转型。",
    "业内人士指出，{market}的变化反映出市场风险偏好正在修复，但短期仍需警惕外部扰动。",
    "对于上述消息，{co}董秘办工作人员回应称，一切以公司公告为准，目前经营情况正常。",
    "{firm}同日晚间披露，公司{month}月实现{metric}{amt}亿元，环比增长{pct}%。",
    "{regulator}数据显示，{month}月末{market}为{amt3}亿元，较上月末增加{amt}亿元。",
    "分析人士认为，随着{policy}落地，{sector}有望迎来估值修复行情。",
    "记者注意到，{co}的股东名单中出现了{broker}旗下资管产品的身影，持股比例约为{small}%。",
    "不过，也有投资者对此持审慎态度，认为{co}的{line}仍处于投入期，短期难以贡献利润。",
    "{broker}研报指出，预计{sector}全年盈利增速在{pct}%左右，维持行业“增持”评级。",
    "北向资金今日净买入{amt}亿元，其中{firm}获净买入居前，{firm2}遭净卖出。",
    "{tech}方面则表示，双方将在{line}、{line2}等层面深度合作，为用户提供一站式服务。",
    "一位接近{regulator}的人士透露，相关细则正在征求意见，预计年内正式发布。",
    "回顾过去一年，{co}在{line}上的布局明显提速，先后与{tech}、{tech2}建立合作关系。",
    "值得一提的是，{co}的{metric}已连续{small}个季度保持增长，高于行业平均水平。",
    "受此影响，{co}盘中一度大涨{move}%，总市值重回{amt3}亿元上方。",
    "对此，{broker}首席经济学家表示，{policy}释放了积极信号，有利于稳定市场预期。",
    "从行业格局来看，前十大券商的{metric}合计占比已超过{share}%，集中度持续提升。",
    "截至发稿，{co}尚未就此事作出进一步回应，记者将持续关注。",
    "{region}市地方金融监管局相关人士表示，将支持辖区内机构{policy}。",
    "“{line}是公司未来三年的战略重点，”{co}一位高管对记者说，“我们会保持足够的投入力度。”",
    "市场人士认为，本轮调整主要受海外加息预期升温影响，{index}短期或维持震荡。",
    "{co}在互动平台上回复投资者提问时称，公司与{tech}的合作正按计划推进。",
    "今年以来，已有{small}家券商宣布与互联网平台开展合作，涉及金额合计超过{amt}亿元。",
    "与此同时，{sector}内部分化明显，{firm}逆势收涨{move}%，{firm2}则跌超{small2}%。",
)

TITLES = (
    "涨停有因？{co}又有新动作，斥资{amt}亿元与{tech}合作",
    "{co}{month}月{metric}同比增长{pct}% {sector}午后走强",
    "{regulator}：{policy}",
    "{co}{amt}亿元合作落地，意在深度布局{line}？",
    "{index}收涨{move}% {sector}领涨 两市成交额{amt3}亿元",
    "不止新总裁上任那么简单，{co}官宣大动作：与{tech}绑定{small}年深度合作",
    "{co}一季度净利润同比增长{pct}% {line}贡献显著",
    "{firm}盘前直线跳水 大跌近{move}%",
    "{month}月{market}数据出炉：同比增长{move}%",
    "“{line}”之战升级：{co}与{tech}牵手背后",
    "{co}回应{line}合作传闻：正按计划推进",
    "{sector}异动拉升 {firm}、{firm2}涨停",
    "北向资金净买入{amt}亿元 {co}获大幅加仓",
    "{broker}：{sector}有望迎来估值修复",
    "{co}拟定增募资不超过{amt3}亿元 投向{line}",
)

LIST_ITEMS = (
    "{regulator}：{policy}。",
    "{co}：{month}月{metric}同比增长{pct}%。",
    "{firm}：拟斥资{amt}亿元回购公司股份。",
    "{index}收涨{move}%，{sector}领涨。",
    "{region}：出台支持{line}发展的若干措施。",
    "{broker}：预计{sector}盈利增速维持在{pct}%左右。",
)

# --- building blocks --------------------------------------------------------------


def _slot_values(rng: random.Random) -> dict[str, str]:
    """One random value for every template slot (cheap: only used while building pools)."""
    two = rng.sample(COMPANIES, 2)
    return {
        "co": _SUBJECT,
        "tech": rng.choice(TECH_FIRMS), "tech2": rng.choice(TECH_FIRMS),
        "broker": rng.choice(BROKERS), "broker2": rng.choice(BROKERS),
        "firm": two[0], "firm2": two[1],
        "sector": rng.choice(SECTORS), "index": rng.choice(INDICES), "index2": rng.choice(INDICES),
        "regulator": rng.choice(REGULATORS), "line": rng.choice(BUSINESS_LINES),
        "line2": rng.choice(BUSINESS_LINES), "metric": rng.choice(METRICS),
        "market": rng.choice(MARKET_METRICS),
        "region": rng.choice(REGIONS), "policy": rng.choice(POLICIES),
        "month": str(rng.randint(1, 12)),
        "amt": f"{rng.uniform(0.5, 99):.2f}".rstrip("0").rstrip("."),
        "amt2": f"{rng.uniform(0.1, 50):.2f}", "amt3": str(rng.randint(100, 20000)),
        "pct": f"{rng.uniform(0.5, 180):.1f}", "move": f"{rng.uniform(0.5, 10):.2f}",
        "small": str(rng.randint(2, 20)), "share": str(rng.randint(30, 80)),
        "small2": f"{rng.uniform(0.3, 9.9):.2f}",
        "points": f"{rng.uniform(2500, 3800):.2f}", "points2": f"{rng.uniform(9000, 15000):.2f}",
    }


def _fill(template: str, rng: random.Random) -> str:
    return template.format_map(_slot_values(rng))


@dataclass(frozen=True)
class Phrasebook:
    """Filled-in templates that posts are assembled from (still holding the {co} placeholder)."""

    sentences: tuple[str, ...]
    titles: tuple[str, ...]
    list_items: tuple[str, ...]


def build_phrasebook(rng: random.Random) -> Phrasebook:
    def fill_many(templates: Sequence[str], size: int) -> tuple[str, ...]:
        return tuple(_fill(rng.choice(templates), rng) for _ in range(size))

    return Phrasebook(
        sentences=fill_many(SENTENCES, SENTENCE_POOL_SIZE),
        titles=fill_many(TITLES, TITLE_POOL_SIZE),
        list_items=fill_many(LIST_ITEMS, LIST_ITEM_POOL_SIZE),
    )


@dataclass(frozen=True)
class Story:
    """What identifies one story; rendering it twice gives the same bytes."""

    seed: int
    timestamp: int  # seconds since the epoch, UTC
    # A re-crawled copy: the feed bot draws a new picsum number on every run,
    # so the same story comes back with different bytes (see corpus SOURCES.md).
    recrawl: int = 0


@dataclass(frozen=True)
class PlannedFile:
    relpath: str  # e.g. "2022/04/000123_3f2a…c9.txt"
    story: Story
    is_duplicate: bool


@dataclass
class CorpusSummary:
    """What was written, and so what a first import into an empty database must report."""

    files: int
    stories: int  # distinct stories: the articles a full import creates
    duplicates: int  # files repeating a story: identical_copies + variant_copies
    identical_copies: int  # byte-identical to another file: reported "unchanged"
    variant_copies: int  # same story, other bytes (re-crawl): reported "updated"
    bytes_written: int
    out_dir: Path


class CorpusError(Exception):
    pass


# --- planning -------------------------------------------------------------------------


def duplicate_count(count: int) -> int:
    """~1% of files repeat a story; small corpora still get one, so tests see the case."""
    if count < 10:
        return 0
    return max(1, round(count * DUPLICATE_SHARE))


def plan_corpus(count: int, seed: int, suffix: str = ".txt", duplicates: bool = True) -> list[PlannedFile]:
    """Decide every file's name and story, without rendering any text.

    `duplicates=False`: every file a story of its own (the demo: a re-crawled
    copy would update its article back and forth on every re-import).
    """
    if count < 0:
        raise CorpusError("count must not be negative")
    rng = random.Random(seed)
    n_dupes = duplicate_count(count) if duplicates else 0
    n_stories = count - n_dupes
    # Distinct seconds, so no two stories share author, title and time by accident
    # (the importer's identity of a story): a full import creates exactly n_stories.
    timestamps = rng.sample(range(_EPOCH_START, _EPOCH_END), n_stories)
    stories = [Story(rng.getrandbits(64), ts) for ts in timestamps]
    entries: list[tuple[Story, bool]] = [(s, False) for s in stories]
    for _ in range(n_dupes):
        original = stories[rng.randrange(n_stories)]
        # Half exact copies, half re-crawls of the same story with other bytes.
        recrawl = 0 if rng.random() < 0.5 else rng.randint(1, 9999)
        entries.append((Story(original.seed, original.timestamp, recrawl), True))
    rng.shuffle(entries)  # copies get ordinary-looking numbers, anywhere in the archive
    width = max(6, len(str(count - 1)))
    planned = []
    for index, (story, is_dupe) in enumerate(entries):
        moment = dt.datetime.fromtimestamp(story.timestamp, dt.timezone.utc)
        # Year/month folders: at 100,000 files that is under 1,000 files per folder.
        name = f"{moment.year}/{moment.month:02d}/{index:0{width}d}_{rng.getrandbits(64):016x}{suffix}"
        planned.append(PlannedFile(name, story, is_dupe))
    return planned


# --- rendering ----------------------------------------------------------------------


def _yaml_quote(text: str) -> str:
    """A YAML single-quoted scalar: the only escape is '' for '."""
    return "'" + text.replace("'", "''") + "'"


def _paragraphs(rng: random.Random, pool: Sequence[str], target_chars: int) -> list[str]:
    paragraphs: list[str] = []
    total = 0
    while total < target_chars:
        # 2 to 5 sentences; random() is several times cheaper than randint().
        text = "".join(rng.choices(pool, k=2 + int(rng.random() * 4)))
        paragraphs.append(text)
        total += len(text)
    return paragraphs


def _cls_image(rng: random.Random, day: dt.date) -> str:
    return f"https://img.cls.cn/images/{day:%Y%m%d}/{''.join(rng.choices(_ALNUM, k=10))}.jpg"


def _image_tag(url: str) -> str:
    return f'<p><img src="{url}" alt="image" referrerpolicy="no-referrer"></p>'


def _feature_body(
    rng: random.Random, book: Phrasebook, paragraphs: list[str], dateline: str, day: dt.date
) -> str:
    """Long read: bold dateline, bold sub-headings, an image now and then (财联社 深度)."""
    out = [f"<p><strong>{dateline}</strong>，{paragraphs[0]}</p>"]
    for text in paragraphs[1:]:
        roll = rng.random()
        if roll < 0.08:
            out.append(f"<p><strong>{rng.choice(book.titles)}</strong></p>")
        elif roll < 0.14:
            out.append(_image_tag(_cls_image(rng, day)))
        out.append(f"<p>{text}</p>")
    return '<div class="m-b-10">' + "\n".join(out) + "</div>"


def _indented_body(paragraphs: list[str], dateline: str) -> str:
    """Paragraphs indented with ideographic spaces, as 中证网 and 新浪 print them."""
    first = f"<p>\u3000\u3000{dateline}{paragraphs[0]}</p>"
    return "\n".join([first, *(f"<p>\u3000\u3000{p}</p>" for p in paragraphs[1:])])


def _telegraph_body(rng: random.Random, book: Phrasebook, title: str, dateline: str, target: int) -> str:
    """Wire copy: plain text, 【title】 lead, sometimes a numbered list on raw lines."""
    lead = f"【{title}】{dateline}，"
    if rng.random() < 0.25:
        lines = [lead + "今日要闻有："]
        n = 1
        while sum(map(len, lines)) < target:
            lines.append(f"{n}、{rng.choice(book.list_items)}")
            n += 1
        return "\n".join(lines)
    paragraphs = _paragraphs(rng, book.sentences, target - len(lead))
    return lead + "\n".join(paragraphs)


def _flash_body(rng: random.Random, paragraphs: list[str], author: str) -> str:
    """Short plain-text item ending with the outlet it was taken from."""
    credit = rng.choice(("华夏时报", "证券日报", "第一财经", "界面新闻", author))
    return "\n".join(paragraphs) + f"（{credit}）"


def _markdown_feature_body(
    rng: random.Random, book: Phrasebook, paragraphs: list[str], dateline: str, day: dt.date
) -> str:
    """A long read in Markdown: bold dateline, sub-headings, images, lists, a table, quotes, links."""
    out = [f"**{dateline}**，{paragraphs[0]}"]
    for text in paragraphs[1:]:
        roll = rng.random()
        if roll < 0.08:
            out.append(f"## {rng.choice(book.titles)}")
        elif roll < 0.12:
            out.append(f"![图]({_cls_image(rng, day)})")
        elif roll < 0.16:
            out.append("\n".join(f"- {item}" for item in rng.choices(book.list_items, k=3)))
        elif roll < 0.18:
            rows = "".join(f"| {rng.choice(COMPANIES)} | {rng.uniform(-10, 10):.2f}% |\n" for _ in range(3))
            out.append(f"| 公司 | 涨跌幅 |\n|:---|---:|\n{rows}")
        elif roll < 0.22:
            out.append(f"> {rng.choice(book.sentences)}")
        if rng.random() < 0.1:
            text += f" [详情](https://www.cls.cn/detail/{rng.randint(100000, 999999)})"
        elif rng.random() < 0.1:
            cut = len(text) // 2
            text = f"{text[:cut]}*{text[cut:cut + 6]}*{text[cut + 6:]}"
        out.append(text)
    return "\n\n".join(out)


def _categories_yaml(chains: list[tuple[str, ...]]) -> str:
    if len(chains) == 1:
        return "categories: \n" + "".join(f" - {name}\n" for name in chains[0])
    return "categories: \n" + "".join(f" - [{', '.join(chain)}]\n" for chain in chains)


def _tags_yaml(rng: random.Random) -> str:
    tags = rng.sample(TAGS, rng.randint(1, 4))
    if rng.random() < 0.5:
        return "tags: [" + ", ".join(tags) + "]\n"
    return "tags:\n" + "".join(f" - {t}\n" for t in tags)


def render_story(story: Story, book: Phrasebook, markdown: bool = False) -> bytes:
    """The file's bytes; a function of `story`, `book` and `markdown` only."""
    rng = random.Random(story.seed)
    source = rng.choices(SOURCES, cum_weights=_SOURCE_CUM_WEIGHTS)[0]
    subject = rng.choice(COMPANIES)
    moment = dt.datetime.fromtimestamp(story.timestamp, _BEIJING)
    day = moment.date()
    title = rng.choice(book.titles).replace(_SUBJECT, subject)
    pool = book.sentences
    target = int(rng.uniform(source.min_chars, source.max_chars))
    reporter = rng.choice(REPORTERS)

    if markdown and source.style in ("feature", "html_brief"):
        dateline = f"{source.author}{day.month}月{day.day}日讯（记者 {reporter}）"
        body = _markdown_feature_body(rng, book, _paragraphs(rng, pool, target), dateline, day)
    elif markdown and source.style == "indented":
        dateline = f"{source.author}讯（记者 {reporter}）{day.month}月{day.day}日，"
        body = "\n\n".join(f"\u3000\u3000{p}" for p in _paragraphs(rng, pool, target))
        body = f"\u3000\u3000{dateline}" + body.removeprefix("\u3000\u3000")
    elif source.style == "telegraph":
        body = _telegraph_body(rng, book, title, f"财联社{day.month}月{day.day}日电", target)
    elif source.style == "flash":
        body = _flash_body(rng, _paragraphs(rng, pool, target), source.author)
    elif source.style == "indented":
        dateline = f"{source.author}讯（记者 {reporter}）{day.month}月{day.day}日，"
        body = _indented_body(_paragraphs(rng, pool, target), dateline)
    elif source.style == "html_brief":
        body = "\n".join(f"<p>{p}</p>" for p in _paragraphs(rng, pool, target))
    else:
        dateline = f"{source.author}{day.month}月{day.day}日讯（记者 {reporter}）"
        body = _feature_body(rng, book, _paragraphs(rng, pool, target), dateline, day)
    body = body.replace(_SUBJECT, subject)

    chains = [source.chain]
    if rng.random() < MULTI_CHAIN_SHARE:
        extra = rng.choice(EXTRA_CHAINS)
        if extra != source.chain:
            chains.append(extra)
    tags = _tags_yaml(rng) if rng.random() < TAGGED_SHARE else ""
    picsum = rng.randint(1, 9999)
    if story.recrawl:
        picsum = (picsum + story.recrawl) % 10000 or 1
    if source.images == "cls":
        image = _cls_image(rng, day)
    elif source.images == "picsum":
        image = f"https://picsum.photos/400/300?random={picsum}"
    else:
        image = ""
    headimg = f"headimg: {_yaml_quote(image)}\n" if image else ""
    front = (
        f"\n---\ntitle: {_yaml_quote(title)}\n{_categories_yaml(chains)}{tags}{headimg}"
        f"author: {source.author}\ncomments: false\n"
        f"date: {formatdate(story.timestamp, usegmt=True)}\nthumbnail: {_yaml_quote(image)}\n---\n\n"
    )
    text = front + (f"{body}\n" if markdown else f"<div>   \n{body}  \n</div>\n            ")
    return text.encode("utf-8")


# --- public entry points -----------------------------------------------------------------


def _phrasebook_for(seed: int) -> Phrasebook:
    # Its own generator (str seeds are hashed with SHA-512, not hash(), so this
    # is stable across processes): the plan does not depend on the phrasebook.
    return build_phrasebook(random.Random(f"phrasebook:{seed}"))


def _suffix(markdown: bool) -> str:
    return ".md" if markdown else ".txt"


def iter_corpus(count: int, seed: int, markdown: bool = False) -> Iterator[tuple[str, bytes]]:
    """(relative path, bytes) of every file, in file-number order; nothing is written."""
    planned = plan_corpus(count, seed, _suffix(markdown))
    book = _phrasebook_for(seed)
    for item in planned:
        yield item.relpath, render_story(item.story, book, markdown)


def write_corpus(
    out_dir: str | os.PathLike, count: int, seed: int, markdown: bool = False, duplicates: bool = True,
) -> CorpusSummary:
    """Write the corpus under `out_dir`, which must be absent or empty.

    `markdown`: Markdown posts (`.md`) instead of the feeds' HTML ones (`.txt`).
    `duplicates=False`: no file repeats another's story (see plan_corpus).

    A non-empty directory is refused rather than merged into: left-over files
    from another run would make the "same seed, same corpus" promise false.
    """
    root = Path(out_dir)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise CorpusError(f"{root} exists and is not an empty directory")
    planned = plan_corpus(count, seed, _suffix(markdown), duplicates)
    book = _phrasebook_for(seed)
    repeated = {p.story.seed for p in planned if p.is_duplicate}
    # Whether a re-crawl changed any byte depends on the source (only picsum
    # URLs change), so copies are compared by content, not by plan.
    contents_seen: set[bytes] = set()
    identical = 0
    made_dirs: set[str] = set()
    written = 0
    for item in planned:
        folder = item.relpath.rpartition("/")[0]
        if folder not in made_dirs:
            (root / folder).mkdir(parents=True, exist_ok=True)
            made_dirs.add(folder)
        data = render_story(item.story, book, markdown)
        with open(root / item.relpath, "wb") as handle:
            handle.write(data)
        written += len(data)
        if item.story.seed in repeated:
            digest = hashlib.blake2b(data, digest_size=16).digest()
            identical += digest in contents_seen
            contents_seen.add(digest)
    duplicates = sum(1 for p in planned if p.is_duplicate)
    return CorpusSummary(
        files=len(planned),
        stories=len(planned) - duplicates,
        duplicates=duplicates,
        identical_copies=identical,
        variant_copies=duplicates - identical,
        bytes_written=written,
        out_dir=root,
    )


def revise_files(paths: Sequence[Path], share: float, seed: int) -> list[Path]:
    """Edit `share` of `paths` in place, keeping each story's identity.

    Appends a correction line to the body, as a newsroom does when it updates
    a story: the title, author and date stay, so a re-import must update the
    existing article rather than create a new one. Returns the edited files.
    """
    if not paths:
        return []
    rng = random.Random(seed)
    chosen = rng.sample(sorted(paths), max(1, round(len(paths) * share)))
    for path in chosen:
        text = path.read_text(encoding="utf-8")
        cut = text.rfind("</div>")
        if cut == -1:  # a Markdown post: a paragraph at the end
            text, cut = text.rstrip("\n") + "\n\n", len(text.rstrip("\n")) + 2
        note = f"\n（更新 {rng.randint(1, 23):02d}:{rng.randint(0, 59):02d}）{_fill(rng.choice(SENTENCES), rng)}"
        path.write_text(text[:cut] + note.replace(_SUBJECT, "该公司") + text[cut:], encoding="utf-8")
    return chosen
