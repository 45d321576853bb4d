"""One table of the school platform's names, taken from the process document (school-platform-process.md).

Every field of every form on the platform (个人信息完善, 毕业去向登记's 签约信息, 户档信息登记), the 手续办理
menu items and the seven 档案转寄类型, each with the words students use for it and - for fields - the one path
that changes it. Used by:
- the NLU component `bot.nlu.spec_router` (entities, comparison and field-change routing; runs inside Rasa);
- the actions (`actions/change_advice.py`, `actions/compare.py`: the advice and comparison texts);
- the jieba user dictionary `bot/dictionary/spec_terms.txt`, generated from it:
  `python -m contracts.spec_terms > bot/dictionary/spec_terms.txt` (a test checks they agree).
Pure Python, no Rasa import: both virtual environments load it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# change paths (the document's 如果信息有误 list); "roster" = filled by the school, not by the student
UNIT_CHANGE, DEST_EDIT, ARCHIVE_EDIT, PERSONAL, ROSTER = (
    "unit_change",
    "destination_edit",
    "archive_edit",
    "personal_info",
    "roster",
)
PATH_FORM = {
    UNIT_CHANGE: "改签申请（单位变更）",
    DEST_EDIT: "毕业去向修改（单位不变）",
    ARCHIVE_EDIT: "户档信息修改",
    PERSONAL: "个人信息完善",
}
# the Rasa intent each path is answered under (rules: change_* -> action_change_advice)
PATH_INTENT = {
    UNIT_CHANGE: "change_unit",
    DEST_EDIT: "change_unit_info",
    ARCHIVE_EDIT: "change_archive",
    PERSONAL: "change_personal",
    ROSTER: "change_personal",
}


@dataclass(frozen=True)
class Term:
    name: str  # the platform's own name
    group: str  # field | form | archive_type | platform
    pattern: str  # regular expression of what students type for it (checked after longer names)
    path: str = ""  # fields: the change path
    form: str = ""  # fields: the form that holds it
    about: str = ""  # one line: what it is / when it is used (comparisons)


def _f(name: str, form: str, path: str, pattern: str = "") -> Term:
    return Term(name, "field", pattern or re.escape(name), path=path, form=form)


P, D, A = "个人信息完善", "毕业去向登记", "户档信息登记"
FIELDS: list[Term] = [
    # 户档信息登记 (the archive and hukou fields) -> 户档信息修改
    _f("档案转寄类型", A, ARCHIVE_EDIT, r"(档案)?(转寄|转递)类型|档案(的)?类型"),
    _f("户口迁移类型", A, ARCHIVE_EDIT, r"户口(迁移|签移|迁出)?类型|迁移类型"),
    _f("户口迁移地址", A, ARCHIVE_EDIT, r"户口(迁移|签移|迁出|迁往|落户)?地址|落户地址|户口迁[移往]?到?哪"),
    _f(
        "档案转寄单位名称",
        A,
        ARCHIVE_EDIT,
        r"档案(转寄|转递|接收)?单位(名称|名字)?|档案(接收|转寄)?(机构|单位)",
    ),
    _f(
        "联系人联系方式",
        A,
        ARCHIVE_EDIT,
        r"(档案|接收人|转寄)[^，,。；]{0,8}联系人?的?(联系方式|电话|手机号?)|接收人的?(电话|手机|联系方式)|联系人联系方式",
    ),
    _f(
        "档案转寄联系人",
        A,
        ARCHIVE_EDIT,
        r"(档案|挡案)[^，,。；]{0,8}(联系人|接收人|收件人)|档案转寄联系人|接收人|收件人",
    ),
    _f(
        "档案转寄地址",
        A,
        ARCHIVE_EDIT,
        r"(档案|挡案|档按)[^，,。；]{0,8}地址|档案(寄|邮寄|转寄)[^，,。；]{0,6}(地址|地方)|档案寄哪|接收地址|转寄地址",
    ),
    _f("邮政编码", A, ARCHIVE_EDIT, r"邮政编码|邮编"),
    # 签约信息: destination type and unit name -> 改签申请（单位变更）
    _f("毕业去向类型", D, UNIT_CHANGE, r"就业形式|(毕业)?去向类型|就业类型"),
    _f("单位名称", D, UNIT_CHANGE, r"(单位|公司|企业)(的)?(名称|名字|全称)"),
    # not a field of the page: "换了单位/单位换了" is the unit name changing
    _f(
        "工作单位",
        D,
        UNIT_CHANGE,
        r"换了?[家个份]?新?的?(工作)?(单位|公司|工作)|(工作单位|单位|公司|工作)(换|变)了|改签了?新?单位",
    ),
    # 签约信息: every other unit field -> 毕业去向修改（单位不变）
    _f("单位所在地", D, DEST_EDIT, r"单位(的)?所在地|单位(所在)?城市|(?<!生源)所在地"),
    _f("单位详细地址", D, DEST_EDIT, r"(单位|公司|企业)(的)?(详细)?地址|详细地址|办公地址|注册地"),
    _f("组织机构代码", D, DEST_EDIT, r"组织机构代码|(统一)?社会信用代码|信用代码|机构代码|税号"),
    _f("单位行业", D, DEST_EDIT, r"(单位|公司)?(所属)?行业"),
    _f("单位性质", D, DEST_EDIT, r"(单位|公司|企业)?性质"),
    _f("工作职位类别", D, DEST_EDIT, r"(工作)?职位(类别)?|岗位(类别)?|职位类型"),
    _f("单位联系人", D, DEST_EDIT, r"(单位|公司)(的)?联系人|hr|人事(联系人)?|联系人"),
    _f("联系方式", D, DEST_EDIT, r"(单位|公司|hr|联系人)(的)?(联系方式|联系电话|电话|座机)"),
    _f("单位邮箱", D, DEST_EDIT, r"(单位|公司|hr)(的)?邮箱"),
    _f("传真", D, DEST_EDIT, r"传真"),
    _f("单位隶属", D, DEST_EDIT, r"(单位)?隶属"),
    _f("备注信息", D, DEST_EDIT, r"备注"),
    # 个人信息完善, the fields marked * (the student's own) -> 个人信息完善
    _f("政治面貌", P, PERSONAL, r"[政正]治面[貌猫]|入党|转正|党员|团员"),
    _f("生源所在地", P, PERSONAL, r"生源(所在)?地"),
    _f("困难生类别", P, PERSONAL, r"困难生"),
    _f("国推生类别", P, PERSONAL, r"国推生"),
    _f("紧急联系人手机号", P, PERSONAL, r"紧急联系人[^，,。；]{0,3}(手机|电话|联系方式)"),
    _f("紧急联系人姓名", P, PERSONAL, r"紧急联系人"),
    _f("手机", P, PERSONAL, r"手机|电话|联系方式"),
    _f("邮箱", P, PERSONAL, r"邮箱|e-?mail"),
    _f("微信", P, PERSONAL, r"微信"),
    _f("辅导员/班主任", P, PERSONAL, r"班主任|辅导员(/班主任)?(的)?(姓名|名字)?(填|写|选)"),
    _f("班级", P, PERSONAL, r"班级"),
    # 个人信息完善, the fields without * (QQ, 异地书院 optional; the rest come from the school's roster)
    _f("QQ", P, PERSONAL, r"qq"),
    _f("异地书院", P, PERSONAL, r"异地书院|书院"),
    _f("姓名", P, ROSTER, r"姓名|我的名字|名字(里)?有?个?字"),
    _f("学号", P, ROSTER, r"学号"),
    _f("考生号", P, ROSTER, r"考生号"),
    _f("性别", P, ROSTER, r"性别"),
    _f("学院(系)", P, ROSTER, r"学院\s*[（(]系[)）]|院系|所在学院"),
    _f("学历", P, ROSTER, r"学历"),
    _f("专业", P, ROSTER, r"专业"),
    _f("毕业日期", P, ROSTER, r"毕业(日期|时间)"),
    _f("民族", P, ROSTER, r"民族"),
    _f("身份证号", P, ROSTER, r"身份证"),
    _f("出生日期", P, ROSTER, r"出生(日期|年月)|生日"),
    _f("学制", P, ROSTER, r"学制"),
    _f("入学时间", P, ROSTER, r"入学(时间|日期|年份)"),
    _f("层次", P, ROSTER, r"层次"),
    _f("培养方式", P, ROSTER, r"培养方式"),
    _f("师范生类别", P, ROSTER, r"师范生"),
    _f("定向或委培单位", P, ROSTER, r"定向|委培"),
]

ITEMS: list[Term] = [
    # the 手续办理 menu (names as the document writes them; the page also says 户籍信息登记/户籍信息修改)
    Term(
        "改签申请（单位变更）",
        "form",
        r"改签(申请)?|单位变更|改前申请",
        about="单位换了：毕业去向（去向类型）或单位名称变了，在这里提交变更",
    ),
    Term(
        "毕业去向修改（单位不变）",
        "form",
        r"毕业去向修改|去向修改|单位不变",
        about="单位没换：单位所在地、详细地址、信用代码、行业、性质、职位类别、联系人、联系方式等其他单位信息有误，在这里修改",
    ),
    Term(
        "户档信息修改",
        "form",
        r"户[档籍]信息修改|户档修改|户籍修改",
        about="户档信息（档案转寄类型、档案转寄单位和地址、邮政编码、档案联系人、户口迁移地址和类型）审核后要改，在这里修改",
    ),
    Term(
        "个人信息完善",
        "form",
        r"个人信息完善|个人信息",
        about="政治面貌、生源所在地、手机、邮箱、微信、紧急联系人等本人信息，在这里填写和更新",
    ),
    Term(
        "毕业去向登记",
        "form",
        r"毕业去向登记|去向登记",
        about="第一次登记毕业去向和签约（单位）信息；辅导员审核前可以直接在这里修改",
    ),
    Term(
        "户档信息登记",
        "form",
        r"户[档籍]信息登记|户档登记|户籍登记",
        about="第一次登记档案转寄和户口迁移信息；辅导员审核前可以直接在这里修改",
    ),
    Term(
        "档案邮寄申请",
        "form",
        r"档案邮寄申请|邮寄申请|档案邮寄",
        about="国家平台确认毕业去向一个工作日后，有档案邮寄需求的同学在这里点“申请邮寄”→“确认并提交”",
    ),
    Term(
        "三方/推荐表遗失补办",
        "form",
        r"遗失补办|三方.{0,4}(丢|遗失)|推荐表.{0,4}(丢|遗失)",
        about="三方协议或就业推荐表丢了，在这里申请补办",
    ),
    Term("档案封存申请", "form", r"档案封存", about="手续办理里的“档案封存申请”"),
    Term("选调生报名推荐", "form", r"选调生", about="手续办理里的“选调生报名推荐”"),
    Term("发薪存折申请", "form", r"发薪存折|存折", about="手续办理里的“发薪存折申请”"),
    # the seven 档案转寄类型 (分类界定 and 审核依据 from the document's table)
    Term(
        "转回生源地",
        "archive_type",
        r"转?回生源地|回原籍",
        about="档案转回生源地的公共就业人才服务机构，户口转回原籍；审核依据：生源地的认定（离校前户口所在地，"
        "户口在学校临时集体户口的一般为入学前户口所在地）",
    ),
    Term(
        "签约单位接收",
        "archive_type",
        r"签约单位(接收)?",
        about="档案（户口）转就业单位；审核依据：就业单位调档函、录用材料等",
    ),
    Term(
        "托管单位接收",
        "archive_type",
        r"托管(单位)?(接收)?",
        about="档案（户口）转非生源地的公共就业人才服务机构；审核依据：该机构的调档函、接收函",
    ),
    Term(
        "上级主管单位接收",
        "archive_type",
        r"上级主管(单位)?(接收)?|主管单位",
        about="档案（户口）转就业单位的上级部门；审核依据：用人单位（或其上级部门）要求转上级主管单位的录用材料",
    ),
    Term(
        "升学本单位接收",
        "archive_type",
        r"升学本单位(接收)?|本单位接收",
        about="档案（户口）转本校（读本校研究生）；审核依据：录取通知书（2024年新增）",
    ),
    Term(
        "升学外单位接收",
        "archive_type",
        r"升学外单位(接收)?|外单位接收",
        about="档案（户口）转外校（去外校升学）；审核依据：录取通知书（2024年新增）",
    ),
    Term(
        "暂不确定",
        "archive_type",
        r"暂不确定|暂时不确定",
        about="2024年新增，流程文档没有给出界定和审核依据；去向未定想选它请先咨询辅导员",
    ),
    Term(
        "学校平台",
        "platform",
        r"学校平台|就业信息网",
        about="登记和修改：毕业去向、户档信息都在学校平台登记，信息有误也务必在学校平台修改，院校两级审核",
    ),
    # today's names of the national platform: the MoE's 全国高校毕业生毕业去向登记系统 runs on 学信网 (issue
    # 20, item b)
    Term(
        "国家平台",
        "platform",
        r"国家平台|学信网|全国(高校)?毕业生?毕业去向登记系统",
        about="确认：两级审核通过一个工作日后信息同步到国家平台，按最新信息在国家平台确认，不在国家平台修改",
    ),
    Term(
        "档案转寄类型",
        "field_kind",
        r"档案(转寄|转递)类型|转寄类型",
        about="档案（和户口）转到哪里：七种之一，如转回生源地、签约单位接收、托管单位接收等",
    ),
    Term(
        "户口迁移类型",
        "field_kind",
        r"户口迁移类型",
        about="户口迁到哪里，选项与档案转寄类型相同；另有“户口迁移地址”：户口未迁入学校/暂无法提供，申请自迁/自填具体地址",
    ),
]

FIELD_BY_NAME = {t.name: t for t in FIELDS}
ITEM_BY_NAME = {t.name: t for t in ITEMS}

CHANGE_CUE = re.compile(
    r"错|改|是空的|空着|没有显示|不显示|显示不出|缺了|更新|更正|纠正|变|换|不对|有误|不一致|对不上|写成|选成|填成|填反|漏|补填|更换|不准|不是我"
)
COMPARE_CUE = re.compile(
    r"区别|区分|不同|不一样|一样吗|一样不|一回事|差别|差异|还是|选哪|哪个|分别|怎么选|对比|比较|vs|VS|和.{1,12}比"
)
ARCHIVE_CTX = re.compile(r"档案|户档|户口|接收人")
UNIT_CTX = re.compile(r"单位|公司|企业|hr|人事", re.I)
CONTEXT_FIELD = {
    "手机": {"unit": "联系方式", "archive": "联系人联系方式"},
    "邮箱": {"unit": "单位邮箱"},
    "联系方式": {"archive": "联系人联系方式"},
    "单位联系人": {"archive": "档案转寄联系人"},
    "邮政编码": {"unit": "单位详细地址"},  # the unit has no postal code field: its address is meant
}
MANY_CUE = re.compile(r"各在|各自|分别|都在哪|哪些")
# questions about a field's format or meaning, not a change ("信用代码一直提示格式不对", "邮编怎么填")
ABOUT_CUE = re.compile(
    r"格式|提示|校验|报错|通不过|验证不|会怎样|会怎么样|影响|几位|多少位|位数|填什么|怎么填|怎么写|是什么|什么意思|在哪查|哪里查|查不到"
)
# the login account's own settings ("统一身份认证的手机号换了收不到短信"): not a field of the platform's forms
ACCOUNT_CUE = re.compile(r"统一身份认证|统一认证|账号|帐号|验证码|短信|密码")
# Topics the process document never covers, owned by other offices or services (eval/real/harvest2.tsv,
# docs/nlu.md "Round 7"): party and league membership (组织部/团委: 组织关系, 介绍信, 团籍), 学信网's other
# services (学历认证; 学信网 itself is today's name of the national platform, issue 20 b), certificates
# (教务处: 毕业证, 学位证), other admissions and exams (专升本, 自考, 政审), an archive that was opened,
# lost or went "dead". A message naming one is not answered from the document even when it shares the
# document's words ("党员组织关系介绍信改派" is not a 政治面貌 change, "专升本审核不通过" is not the
# platform's review, "档案可以自己拆开吗" is not hand-carrying): the decision abstains
# (bot/nlu/decision.py), and a staff knowledge entry may answer it.
# (pattern, who handles it): the abstention names them (actions/uncertain.py); general roles, hedged with 一般
OFF_DOCUMENT_OWNERS: list[tuple[str, str]] = [
    (r"团组织关系|团籍|团员证|团费|脱团|离团|退团", "团员组织关系、团籍一般由学院团委负责"),
    (r"(?:党)?组织关系|介绍信|党费|党籍", "党员组织关系的转接、介绍信一般由学院党委（你所在的党支部）办理"),
    (
        r"学历认证|学历查询|电子注册|备案表",
        "学历查询、学历认证和电子注册备案表在学信网（www.chsi.com.cn）办理",
    ),
    (r"学位证|毕业证", "毕业证、学位证的发放和补办一般由学校教务部门（研究生为研究生院）负责"),
    (r"专升本|专转本|自考|成人高考", "专升本、自考、成人高考的报名和审核一般由省级教育考试院或招生学校负责"),
    (r"政审", "政审一般由招录单位（或它委托的部门）组织"),
    (
        r"拆开|拆封|私拆|拆了|死档|寄丢|档案[^，。,？?]{0,6}(?:丢了|丢失|遗失)|(?:丢失|遗失)的档案",
        "档案被拆封、丢失或长期无人管理，一般要联系学校的档案管理部门或现在保管档案的单位（人才中心）核实和补办",
    ),
]
OFF_DOCUMENT = re.compile("|".join(p for p, _ in OFF_DOCUMENT_OWNERS))
_OWNER_RES = [(re.compile(p), who) for p, who in OFF_DOCUMENT_OWNERS]


def off_document_owner(text: str) -> str | None:
    """Who handles the first topic of OFF_DOCUMENT the text names, or None."""
    found = [(m.start(), who) for rx, who in _OWNER_RES if (m := rx.search(text or ""))]
    return min(found)[1] if found else None


# names that have their own FAQ answer when asked alone; filler words around a name asked alone
FAQ_GROUPS = ("archive_type", "platform", "form")
# a name asked alone ("档案邮寄", "那托管单位接收呢") -> the FAQ answer about it (its how-to / what it is)
ALONE_ANSWER = {
    "改签申请（单位变更）": "faq/gaiqian",
    "毕业去向修改（单位不变）": "faq/quxiang_xiugai",
    "户档信息修改": "faq/hudang_xiugai",
    "个人信息完善": "faq/personal_info",
    "毕业去向登记": "faq/destination_steps",
    "户档信息登记": "faq/archive_registration_fields",
    "档案邮寄申请": "faq/mailing_steps",
    "三方/推荐表遗失补办": "faq/lost_tripartite",
    "档案封存申请": "faq/archive_seal",
    "选调生报名推荐": "faq/xuandiaosheng",
    "发薪存折申请": "faq/salary_passbook",
    "转回生源地": "faq/type_hometown",
    "签约单位接收": "faq/type_signed_unit",
    "托管单位接收": "faq/type_custody",
    "上级主管单位接收": "faq/type_superior",
    "升学本单位接收": "faq/type_further_same",
    "升学外单位接收": "faq/type_further_other",
    "暂不确定": "faq/type_uncertain",
    "学校平台": "faq/principle",
    "国家平台": "faq/national_confirm",
}
# a menu the assistant does for the student: its name alone is that request (the action answers a student who
# is not signed in with the how-to and the offer to do it after sign-in: only the mailing action does, the
# forms ask to sign in first, so for them the name alone from such a student gets the FAQ answer)
ALONE_ACTION = {
    "档案邮寄申请": "apply_mailing",
    "毕业去向登记": "fill_destination",
    "户档信息登记": "fill_archive",
    "个人信息完善": "fill_profile",
}
HOWTO_WITHOUT_SIGN_IN = {"apply_mailing"}
FILLERS = re.compile(r"[那呢吗嘛啊呀吧的是请问选什么啥怎么样要材料？?！!。，,\s]")
DIFF_CUE = re.compile(r"区别|区分|不同|不一样|差别|差异|一回事|关系|对比|比较")
# a compare needs two names from one of these groups
COMPARE_GROUPS = ("form", "archive_type", "platform", "field_kind")

_FIELD_RES = [(t, re.compile(t.pattern, re.I)) for t in FIELDS]
_ITEM_RES = [(t, re.compile(t.pattern, re.I)) for t in ITEMS]


@dataclass(frozen=True)
class Hit:
    term: Term
    start: int
    end: int


def _scan(text: str, table: list[tuple[Term, re.Pattern]]) -> list[Hit]:
    """Non-overlapping matches, longest first (so 档案转寄联系人 wins over 联系人), in text order."""
    found: list[Hit] = []
    for term, rx in table:
        for m in rx.finditer(text):
            if m.end() > m.start():
                found.append(Hit(term, m.start(), m.end()))
    found.sort(key=lambda h: (-(h.end - h.start), h.start))
    taken: list[Hit] = []
    for h in found:
        if all(h.end <= o.start or h.start >= o.end for o in taken):
            taken.append(h)
    return sorted(taken, key=lambda h: h.start)


def find_fields(text: str, items: list[Hit] | None = None) -> list[Hit]:
    """Fields named in the text, except inside a menu or archive-type name (生源地 in 转回生源地)."""
    items = [
        i for i in (find_items(text) if items is None else items) if i.term.group in ("form", "archive_type")
    ]
    hits = [
        h for h in _scan(text or "", _FIELD_RES) if all(h.end <= i.start or h.start >= i.end for i in items)
    ]
    # words shared by several forms (电话, 邮箱, 联系人) belong to the form the sentence talks about
    ctx = "archive" if ARCHIVE_CTX.search(text or "") else "unit" if UNIT_CTX.search(text or "") else ""
    out = []
    for h in hits:
        name = CONTEXT_FIELD.get(h.term.name, {}).get(ctx)
        out.append(Hit(FIELD_BY_NAME[name], h.start, h.end) if name else h)
    return out


def change_field(text: str, items: list[Hit] | None = None) -> Term | None:
    """The field a change request is about ("单位行业选错了"), or None: a field is named, a change word is
    there, the message does not ask about the field's format or meaning or about the login account, and all
    named fields share one path."""
    text = text or ""
    if (
        not CHANGE_CUE.search(text)
        or ABOUT_CUE.search(text)
        or MANY_CUE.search(text)
        or ACCOUNT_CUE.search(text)
    ):
        return None
    fields = find_fields(text, items)
    if not fields or len({h.term.path for h in fields}) > 1:
        return None
    return fields[0].term


def find_items(text: str) -> list[Hit]:
    return _scan(text or "", _ITEM_RES)


def field_named(text: str) -> Term | None:  # noqa: D401 - kept for callers that ignore the change cue
    """The field a change request is about: the first one named (after longest-match resolution)."""
    hits = find_fields(text)
    return hits[0].term if hits else None


def compared(text: str) -> list[Term]:
    """Two or more distinct names of one group joined by a comparison word, else [].

    The platforms only with a word of difference: "先填学校平台还是国家平台" is about order, not a
    comparison."""
    if not COMPARE_CUE.search(text or ""):
        return []
    hits = find_items(text)
    for group in COMPARE_GROUPS:
        if group == "platform" and not DIFF_CUE.search(text):
            continue
        names: list[Term] = []
        for h in hits:
            if h.term.group == group and h.term not in names:
                names.append(h.term)
        if len(names) >= 2:
            return names
    return []


def jieba_lines() -> list[str]:
    """jieba user dictionary lines (word, frequency, tag) for every name in the table."""
    words = [t.name for t in FIELDS] + [t.name for t in ITEMS]
    words += [re.sub(r"（.*）", "", w) for w in words]
    out, seen = [], set()
    for w in words:
        w = w.replace("(系)", "").strip()
        if len(w) >= 2 and "/" not in w and w not in seen:
            seen.add(w)
            out.append(f"{w} 3000 n")
    return out


if __name__ == "__main__":
    print("\n".join(jieba_lines()))
