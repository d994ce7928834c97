"""Organisations (责任单位) as one name each: the plans write the same body several ways
(各市县政府, 各市县人民政府; 省发展改革委, 省发改委), and every surface must count it once and
match it exactly.

`ORGANISATIONS` is the table: the canonical Chinese name (as the task tables mostly write
it), the other ways it is written, and its English name. Matching is by the whole name, with
full-width forms folded and through this table, never by substring: 海口 is not 人行海口中心支行.
A name the table does not know stands for itself (and has no English form).
"""

import unicodedata
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class Organisation:
    name: str  # canonical Chinese name
    name_en: str
    synonyms: tuple[str, ...] = ()
    local: bool = False  # the local governments as a body (each carries the task out in its area)


ORGANISATIONS: tuple[Organisation, ...] = (
    # Hainan: the provincial government's departments and bodies
    Organisation("省发展改革委", "Provincial Development and Reform Commission",
                 ("省发展和改革委员会", "省发改委", "海南省发展改革委", "海南省发展和改革委员会")),
    Organisation("省民政厅", "Provincial Department of Civil Affairs", ("海南省民政厅",)),
    Organisation("省卫生健康委", "Provincial Health Commission",
                 ("省卫生健康委员会", "省卫健委", "海南省卫生健康委", "海南省卫生健康委员会")),
    Organisation("省教育厅", "Provincial Department of Education", ("海南省教育厅",)),
    Organisation("省财政厅", "Provincial Department of Finance", ("海南省财政厅",)),
    Organisation("省人力资源社会保障厅", "Provincial Department of Human Resources and Social Security",
                 ("省人力资源和社会保障厅", "省人社厅", "海南省人力资源社会保障厅")),
    Organisation("省住房城乡建设厅", "Provincial Department of Housing and Urban-Rural Development",
                 ("省住房和城乡建设厅", "省住建厅", "海南省住房城乡建设厅")),
    Organisation("省自然资源和规划厅", "Provincial Department of Natural Resources and Planning",
                 ("海南省自然资源和规划厅",)),
    Organisation("省工业和信息化厅", "Provincial Department of Industry and Information Technology",
                 ("省工信厅", "海南省工业和信息化厅")),
    Organisation("省交通运输厅", "Provincial Department of Transport", ("海南省交通运输厅",)),
    Organisation("省公安厅", "Provincial Department of Public Security", ("海南省公安厅",)),
    Organisation("省农业农村厅", "Provincial Department of Agriculture and Rural Affairs", ("海南省农业农村厅",)),
    Organisation("省商务厅", "Provincial Department of Commerce", ("海南省商务厅",)),
    Organisation("省科技厅", "Provincial Department of Science and Technology", ("省科学技术厅", "海南省科技厅")),
    Organisation("省生态环境厅", "Provincial Department of Ecology and Environment", ("海南省生态环境厅",)),
    Organisation("省应急管理厅", "Provincial Department of Emergency Management", ("海南省应急管理厅",)),
    Organisation("省旅游和文化广电体育厅", "Provincial Department of Tourism, Culture, Radio, Television and Sports",
                 ("海南省旅游和文化广电体育厅", "省旅文厅")),
    Organisation("省医疗保障局", "Provincial Healthcare Security Administration", ("省医保局", "海南省医疗保障局")),
    Organisation("省市场监管局", "Provincial Administration for Market Regulation",
                 ("省市场监督管理局", "海南省市场监督管理局")),
    Organisation("省统计局", "Provincial Bureau of Statistics", ("海南省统计局",)),
    Organisation("省税务局", "Provincial Tax Service", ("国家税务总局海南省税务局",)),
    Organisation("省林业局", "Provincial Forestry Bureau", ("海南省林业局",)),
    Organisation("省国资委", "Provincial State-owned Assets Supervision and Administration Commission",
                 ("海南省国资委",)),
    Organisation("省地方金融监管局", "Provincial Local Financial Supervision Bureau", ("海南省地方金融监督管理局",)),
    Organisation("省大数据管理局", "Provincial Big Data Administration", ("海南省大数据管理局",)),
    Organisation("省机关事务管理局", "Provincial Government Offices Administration", ("海南省机关事务管理局",)),
    Organisation("省委编办", "Provincial Commission Office for Public Sector Reform", ("省委机构编制委员会办公室",)),
    Organisation("省一体化政务平台领导小组办公室",
                 "Office of the Provincial Leading Group for the Integrated Government Services Platform"),
    Organisation("省消防救援总队", "Provincial Fire and Rescue Corps", ("海南省消防救援总队",)),
    Organisation("省总工会", "Provincial Federation of Trade Unions", ("海南省总工会",)),
    Organisation("省妇联", "Provincial Women's Federation", ("省妇女联合会", "海南省妇联")),
    Organisation("团省委", "Provincial Committee of the Communist Youth League", ("共青团海南省委",)),
    Organisation("省残联", "Provincial Disabled Persons' Federation", ("省残疾人联合会", "海南省残联")),
    Organisation("人行海口中心支行", "People's Bank of China Haikou Central Sub-branch",
                 ("中国人民银行海口中心支行",)),
    Organisation("银保监会海南监管局", "CBIRC Hainan Office", ("中国银保监会海南监管局",)),
    Organisation("证监会海南监管局", "CSRC Hainan Office", ("中国证监会海南监管局",)),
    Organisation("中国银行海南省分行", "Bank of China Hainan Branch"),
    Organisation("各市县政府", "city and county governments",
                 ("各市县人民政府", "市县政府", "市县人民政府", "各市县（区）政府", "各市县（区）人民政府"), local=True),
    Organisation("各地级以上市政府", "governments of the prefecture-level cities",
                 ("各地级以上市人民政府", "各地级市政府", "各地级市人民政府"), local=True),  # Guangdong's wording
    Organisation("海南省人民政府", "People's Government of Hainan Province", ("省政府", "海南省政府")),
    # the State Council's ministries and bodies (the national task table)
    Organisation("国务院办公厅", "General Office of the State Council", ("国办",)),
    Organisation("国家发展改革委", "National Development and Reform Commission", ("国家发展和改革委员会", "国家发改委")),
    Organisation("民政部", "Ministry of Civil Affairs"),
    Organisation("国家卫生健康委", "National Health Commission", ("国家卫生健康委员会", "国家卫健委")),
    Organisation("教育部", "Ministry of Education"),
    Organisation("财政部", "Ministry of Finance"),
    Organisation("人力资源社会保障部", "Ministry of Human Resources and Social Security", ("人力资源和社会保障部",)),
    Organisation("住房城乡建设部", "Ministry of Housing and Urban-Rural Development", ("住房和城乡建设部",)),
    Organisation("自然资源部", "Ministry of Natural Resources"),
    Organisation("工业和信息化部", "Ministry of Industry and Information Technology", ("工信部",)),
    Organisation("交通运输部", "Ministry of Transport"),
    Organisation("商务部", "Ministry of Commerce"),
    Organisation("科技部", "Ministry of Science and Technology", ("科学技术部",)),
    Organisation("文化和旅游部", "Ministry of Culture and Tourism"),
    Organisation("应急部", "Ministry of Emergency Management", ("应急管理部",)),
    Organisation("国务院国资委", "State-owned Assets Supervision and Administration Commission of the State Council"),
    Organisation("市场监管总局", "State Administration for Market Regulation", ("国家市场监督管理总局",)),
    Organisation("国家医保局", "National Healthcare Security Administration", ("国家医疗保障局",)),
    Organisation("国家统计局", "National Bureau of Statistics"),
    Organisation("税务总局", "State Taxation Administration", ("国家税务总局",)),
    Organisation("体育总局", "General Administration of Sport", ("国家体育总局",)),
    Organisation("国管局", "National Government Offices Administration", ("国家机关事务管理局",)),
    Organisation("中直管理局", "Administration of Offices under the CPC Central Committee"),
    Organisation("人民银行", "People's Bank of China", ("中国人民银行",)),
    Organisation("银保监会", "China Banking and Insurance Regulatory Commission", ("中国银保监会",)),
    Organisation("证监会", "China Securities Regulatory Commission", ("中国证监会",)),
    Organisation("全国总工会", "All-China Federation of Trade Unions"),
    Organisation("共青团中央", "Central Committee of the Communist Youth League"),
    Organisation("全国妇联", "All-China Women's Federation"),
    Organisation("中国残联", "China Disabled Persons' Federation"),
    Organisation("各相关部门", "the departments concerned", ("有关部门", "各有关部门")),
    Organisation("地方各级人民政府", "local governments at every level", ("地方各级政府",), local=True),
)


def _fold(name: str) -> str:
    """Full-width forms folded and spaces dropped: how two spellings of one name meet."""
    return "".join(unicodedata.normalize("NFKC", name or "").split())


@lru_cache(maxsize=1)
def _index() -> dict[str, Organisation]:
    out: dict[str, Organisation] = {}
    for org in ORGANISATIONS:
        for name in (org.name, *org.synonyms):
            key = _fold(name)
            if key in out and out[key] is not org:  # a table error, caught by the tests
                raise ValueError(f"organisation name {name!r} is given to {out[key].name} and {org.name}")
            out[key] = org
    return out


def find(name: str) -> Organisation | None:
    """The organisation `name` denotes, by its canonical name or a synonym; None if unknown."""
    return _index().get(_fold(name))


def canonical(name: str) -> str:
    """The one name of the organisation (各市县人民政府 -> 各市县政府); an unknown name as it is
    written (folded)."""
    org = find(name)
    return org.name if org else _fold(name)


def same_organisation(a: str, b: str) -> bool:
    """Whether two names denote one organisation: equal once folded, or synonyms."""
    return bool(_fold(a)) and canonical(a) == canonical(b)


def english_name(name: str) -> str:
    """The organisation's English name, or "" when the table has none."""
    org = find(name)
    return org.name_en if org else ""


def organisation_name(name: str, lang: str = "zh") -> str:
    """The name a reader of `lang` is shown: the canonical Chinese name, or the English one
    where there is one (else the Chinese name, which then has no English form)."""
    if lang == "en":
        return english_name(name) or canonical(name)
    return canonical(name)


def is_local(name: str) -> bool:
    """The local governments as a body (各市县政府): they carry every task out, and are listed
    after the departments."""
    org = find(name)
    return bool(org and org.local)
