"""The everyday words residents type for each service, and how the service search matches them.

The menu's names (代购代办, 心理健康辅导) are the center's words; an elderly resident types
"帮我买药", "心里难受", "扫地". The order forms (the resident's and the call center's) get
``WORDS`` in their page data, and their search (``api/web/static/js/services.js``) applies the
rule ``matches`` states here, so that the table test of phrasings
(tests/core/test_service_words.py) checks what the page does.

The rule: the search is cut into terms at spaces and punctuation; a service is found when
every term is part of its words (names in both languages, its category's names, the words
below), or contains one of its Chinese words of two or more characters ("帮我买药" contains
买药). A word listed here for a service an item of the deployment's menu does not have simply
finds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

# The commonest needs of a rural county's residents, many of them elderly: the first tiles of
# the order forms, and keys 1 to 8 of the center's keypad line, in this order.
COMMON: Final[tuple[str, ...]] = (
    "care.elderly_visit",
    "care.errands",
    "care.disability",
    "health.clinic",
    "neighbourhood.repairs",
    "neighbourhood.haircut",
    "science.smartphone",
    "legal.consultation",
)

WORDS: Final[dict[str, str]] = {
    "care.elderly_visit": (
        "老人 看望 陪伴 陪陪 陪我 聊天 说说话 独居 空巢 探访 一个人住 没人管 孤单 来看看"
    ),
    "care.errands": (
        "买药 买菜 买东西 买米 买油 跑腿 缴费 交费 电费 水费 办事 "
        "代办 代买 取药 拿药 送药 快递 寄东西 办证 办手续 领钱 养老金 "
        "社保 医保 充话费"
    ),
    "care.disability": (
        "残疾 轮椅 残障 拐杖 瘫痪 腿脚不便 行动不便 走不动 盲人 看不见 耳聋 听不见 助听器"
    ),
    "health.clinic": (
        "看病 体检 量血压 测血糖 医生 义诊 头疼 头痛 发烧 咳嗽 不舒服 检查身体 牙疼 眼睛花"
    ),
    "health.chronic": ("高血压 糖尿病 慢病 慢性病 吃药 血糖高 血压高 心脏病 关节炎 药怎么吃"),
    "health.mental": (
        "心理 心情 想不开 孤独 心里难受 心里不舒服 心里苦 心里堵 睡不着 "
        "失眠 焦虑 抑郁 伤心 难过 心烦 想哭 压力大 烦得很"
    ),
    "neighbourhood.repairs": (
        "修 电视 冰箱 洗衣机 电器 维修 坏了 空调 电饭锅 热水器 灯不亮 "
        "灯泡 电线 插座 漏水 水管 水龙头 修理 停电"
    ),
    "neighbourhood.haircut": "理发 剪头 剃头 头发 推头 剃胡子",
    "science.smartphone": (
        "手机 微信 视频 健康码 智能 上网 扫码 付款 支付宝 发语音 抖音 不会用 网上"
    ),
    "science.anti_fraud": "诈骗 骗子 被骗 骗钱 陌生电话 中奖 转账 保健品",
    "science.lectures": "科普 讲座 涨知识",
    "legal.consultation": (
        "法律 律师 打官司 咨询 欠钱 欠工资 讨薪 工钱 合同 遗嘱 借钱不还 宅基地 赔偿 告他"
    ),
    "legal.mediation": "吵架 纠纷 邻居 调解 矛盾 打架 闹矛盾 婆媳 分家 地界 扯皮",
    "legal.education": "普法 法律知识 学法",
    "education.tutoring": "作业 辅导 学习 功课 补课 成绩 上学",
    "education.left_behind": "孩子 留守 儿童 小孩 娃 没人带 在外打工",
    "education.family": "家庭教育 管孩子 教育孩子 不听话 叛逆 沉迷游戏",
    "environment.sanitation": (
        "打扫 卫生 清洁 扫地 拖地 搞卫生 太脏 很脏 大扫除 擦窗 "
        "擦玻璃 收拾屋子 收拾房间 扫 臭水沟 环境"
    ),
    "environment.waste_sorting": "垃圾 分类 回收 废品",
    "environment.greening": "种树 植树 绿化 花草 树苗",
    "civility.traffic": "交通 过马路 红绿灯 乱停车 开车",
    "civility.customs": "红白喜事 办酒 彩礼 大操大办 人情",
    "civility.public_order": "秩序 维持秩序 排队 赶场",
    "theory.policy": "政策 讲政策 宣讲",
    "theory.moral_models": "道德 好人好事 榜样",
    "theory.rural_revitalization": "乡村振兴 致富 产业",
    "agritech.training": (
        "种地 种庄稼 庄稼 种菜 农技 病虫害 生虫 打农药 化肥 施肥 果树 种子 水稻 玉米 茶叶"
    ),
    "agritech.livestock": ("养猪 养牛 养鸡 养羊 养鸭 猪生病 牛生病 鸡瘟 兽医 养殖 猪崽 牲口"),
    "agritech.ecommerce": "卖货 卖不出去 网上卖 直播 农产品 卖菜 卖橘子 电商 销路",
    "culture.heritage": "苗绣 苗族 非遗 手艺 刺绣 银饰 蜡染",
    "culture.performance": "唱歌 跳舞 演出 表演 文艺 花灯 看戏",
    "culture.reading": "看书 读书 借书 书 识字 认字 报纸 读报",
    "fitness.guidance": "锻炼 健身 运动 广场舞 太极 打拳",
    "fitness.events": "比赛 篮球 体育 拔河",
    "rescue.disaster": "大雨 洪水 滑坡 塌方 漏雨 着火 火灾 地震 受灾 房子塌",
    "rescue.first_aid": "急救 晕倒 摔倒 心肺复苏 救护 包扎",
}

# What cuts a search into terms ("#1", "买药，理发" or "怎么办？" alike): spaces and punctuation.
SEPARATORS: Final = re.compile(r"[\s,，。、#＃?？!！;；:：]+")


def words(code: str, names: Iterable[str]) -> str:
    """What a service's search matches: its names (and its category's), then the words above."""
    return " ".join([*names, WORDS.get(code, "")]).lower()


def matches(query: str, searched: str) -> bool:
    """Whether the search ``query`` finds the service whose ``words`` are ``searched``."""
    terms = [term for term in SEPARATORS.split(query.lower()) if term]
    listed = [word for word in searched.split(" ") if len(word) > 1 and not word.isascii()]
    return bool(terms) and all(
        term in searched or any(word in term for word in listed) for term in terms
    )


def find(query: str, services: Iterable[tuple[str, Sequence[str]]]) -> list[str]:
    """The codes of ``services`` (code, names) that ``query`` finds, in the order given."""
    return [code for code, names in services if matches(query, words(code, names))]
