"""Everyday words find services: what elderly residents type, each to the service they mean.

A pure table test of the rule the resident page's search applies (core/service_words.py), over
the menu the county starts with (migration 0002). Each phrasing must find its service, and at
most one other beside it (Enter picks the first; a short list is read at a glance).
"""

from __future__ import annotations

import importlib

import pytest

from core.service_words import WORDS, find, matches, words

SEED = importlib.import_module("migrations.versions.0002_seed_data")
SERVICES = [
    (code, (name, name_en, category, category_en))
    for _, category, category_en, items in SEED.CATALOG
    for code, name, name_en in items
]

PHRASINGS: list[tuple[str, str]] = [
    # Someone to visit, to talk to.
    ("来看看我", "care.elderly_visit"),
    ("家里就我一个人住", "care.elderly_visit"),
    ("想找人聊天", "care.elderly_visit"),
    ("陪陪我", "care.elderly_visit"),
    ("儿女不在身边没人管", "care.elderly_visit"),
    ("看望老人", "care.elderly_visit"),
    ("孤单", "care.elderly_visit"),
    # Errands.
    ("帮我买药", "care.errands"),
    ("买菜", "care.errands"),
    ("帮忙买米买油", "care.errands"),
    ("交电费", "care.errands"),
    ("交水费", "care.errands"),
    ("去医院拿药", "care.errands"),
    ("取快递", "care.errands"),
    ("领养老金", "care.errands"),
    ("办社保", "care.errands"),
    ("帮我充话费", "care.errands"),
    ("跑腿", "care.errands"),
    ("办手续", "care.errands"),
    # Disability.
    ("轮椅坏了推不动", "care.disability"),
    ("腿脚不便", "care.disability"),
    ("我走不动路", "care.disability"),
    ("残疾人", "care.disability"),
    ("耳朵听不见", "care.disability"),
    ("眼睛看不见", "care.disability"),
    # Seeing a doctor.
    ("看病", "health.clinic"),
    ("量血压", "health.clinic"),
    ("头疼", "health.clinic"),
    ("老是咳嗽", "health.clinic"),
    ("身体不舒服", "health.clinic"),
    ("想检查身体", "health.clinic"),
    ("牙疼", "health.clinic"),
    ("发烧了", "health.clinic"),
    # Long illnesses.
    ("高血压", "health.chronic"),
    ("糖尿病", "health.chronic"),
    ("血糖高", "health.chronic"),
    ("药怎么吃", "health.chronic"),
    ("关节炎", "health.chronic"),
    ("心脏病", "health.chronic"),
    # The heart's troubles.
    ("心里难受", "health.mental"),
    ("我心里苦", "health.mental"),
    ("晚上睡不着", "health.mental"),
    ("想不开", "health.mental"),
    ("心烦", "health.mental"),
    ("老伴走了很伤心", "health.mental"),
    ("压力大", "health.mental"),
    ("整天想哭", "health.mental"),
    ("心情不好", "health.mental"),
    # Repairs.
    ("电视坏了", "neighbourhood.repairs"),
    ("冰箱不制冷", "neighbourhood.repairs"),
    ("修洗衣机", "neighbourhood.repairs"),
    ("灯不亮", "neighbourhood.repairs"),
    ("水管漏水", "neighbourhood.repairs"),
    ("水龙头坏了", "neighbourhood.repairs"),
    ("热水器", "neighbourhood.repairs"),
    ("插座没电", "neighbourhood.repairs"),
    ("家里停电", "neighbourhood.repairs"),
    ("电饭锅", "neighbourhood.repairs"),
    # Haircuts.
    ("理发", "neighbourhood.haircut"),
    ("剪头发", "neighbourhood.haircut"),
    ("剃头", "neighbourhood.haircut"),
    ("头发长了", "neighbourhood.haircut"),
    # Phones.
    ("手机不会用", "science.smartphone"),
    ("教我用微信", "science.smartphone"),
    ("和孙子视频", "science.smartphone"),
    ("扫码付款", "science.smartphone"),
    ("怎么发语音", "science.smartphone"),
    ("健康码", "science.smartphone"),
    # Fraud.
    ("我好像被骗了", "science.anti_fraud"),
    ("接到陌生电话", "science.anti_fraud"),
    ("说我中奖了", "science.anti_fraud"),
    ("骗子", "science.anti_fraud"),
    ("让我转账", "science.anti_fraud"),
    # The law.
    ("打官司", "legal.consultation"),
    ("老板欠工资", "legal.consultation"),
    ("借钱不还", "legal.consultation"),
    ("立遗嘱", "legal.consultation"),
    ("宅基地", "legal.consultation"),
    ("找律师", "legal.consultation"),
    ("邻居吵架", "legal.mediation"),
    ("婆媳闹矛盾", "legal.mediation"),
    ("兄弟分家", "legal.mediation"),
    ("地界扯皮", "legal.mediation"),
    ("普法", "legal.education"),
    # Children.
    ("孙子作业不会", "education.tutoring"),
    ("补课", "education.tutoring"),
    ("留守儿童", "education.left_behind"),
    ("爸妈在外打工", "education.left_behind"),
    ("小孩没人带", "education.left_behind"),
    ("孩子不听话", "education.family"),
    ("沉迷游戏", "education.family"),
    # Cleaning, rubbish, trees.
    ("扫地", "environment.sanitation"),
    ("帮忙打扫卫生", "environment.sanitation"),
    ("屋里太脏了", "environment.sanitation"),
    ("拖地", "environment.sanitation"),
    ("擦玻璃", "environment.sanitation"),
    ("收拾屋子", "environment.sanitation"),
    ("大扫除", "environment.sanitation"),
    ("臭水沟", "environment.sanitation"),
    ("垃圾怎么分类", "environment.waste_sorting"),
    ("卖废品", "environment.waste_sorting"),
    ("种树", "environment.greening"),
    # Farming.
    ("庄稼生虫了", "agritech.training"),
    ("怎么施肥", "agritech.training"),
    ("果树", "agritech.training"),
    ("种茶叶", "agritech.training"),
    ("猪生病了", "agritech.livestock"),
    ("养鸡", "agritech.livestock"),
    ("找兽医", "agritech.livestock"),
    ("橘子卖不出去", "agritech.ecommerce"),
    ("直播卖货", "agritech.ecommerce"),
    ("农产品销路", "agritech.ecommerce"),
    # Culture, reading, exercise.
    ("学苗绣", "culture.heritage"),
    ("蜡染", "culture.heritage"),
    ("想看戏", "culture.performance"),
    ("唱歌跳舞", "culture.performance"),
    ("想识字", "culture.reading"),
    ("读报", "culture.reading"),
    ("借书", "culture.reading"),
    ("广场舞", "fitness.guidance"),
    ("打太极", "fitness.guidance"),
    ("篮球比赛", "fitness.events"),
    # Emergencies and customs.
    ("房子漏雨", "rescue.disaster"),
    ("山体滑坡", "rescue.disaster"),
    ("着火了", "rescue.disaster"),
    ("学急救", "rescue.first_aid"),
    ("老人摔倒了", "rescue.first_aid"),
    ("红白喜事", "civility.customs"),
    ("彩礼太高", "civility.customs"),
    ("过马路", "civility.traffic"),
    ("赶场排队", "civility.public_order"),
    ("讲政策", "theory.policy"),
    ("好人好事", "theory.moral_models"),
    ("乡村振兴", "theory.rural_revitalization"),
    ("科普讲座", "science.lectures"),
    # As the menu names them, and with stray marks.
    ("代购代办", "care.errands"),
    ("心理健康辅导", "health.mental"),
    ("买药，", "care.errands"),
    ("修电视？", "neighbourhood.repairs"),
    ("clean", "environment.sanitation"),
]


def test_at_least_a_hundred_phrasings_and_every_word_belongs_to_a_service_on_the_menu() -> None:
    assert len(PHRASINGS) >= 100
    assert len({phrase for phrase, _ in PHRASINGS}) == len(PHRASINGS)
    assert set(WORDS) <= {code for code, _ in SERVICES}


@pytest.mark.parametrize(("phrase", "meant"), PHRASINGS)
def test_an_everyday_phrasing_finds_the_service_it_means(phrase: str, meant: str) -> None:
    found = find(phrase, SERVICES)
    assert meant in found, (phrase, found)
    assert len(found) <= 2, (phrase, found)


def test_nothing_is_found_for_nothing_or_for_what_no_service_is_about() -> None:
    assert find("", SERVICES) == []
    assert find(" ，。", SERVICES) == []
    assert find("#1", SERVICES) == []
    assert find("火箭发射", SERVICES) == []


def test_every_term_of_a_search_must_match() -> None:
    errands = words("care.errands", ("代购代办", "Errands and paperwork", "关爱帮扶", "Care"))
    assert matches("买药 代办", errands)
    assert not matches("买药 理发", errands)
