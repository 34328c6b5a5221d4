"""The seed service menu (服务菜单): 13 categories and 36 sub-items.

Built from the county article: the four named categories (文明引导, 应急救援, 科学普及,
卫生环保) and four named sub-items (道德模范宣讲, 非遗文化传承, 农用实用技术培训,
心理健康辅导) are here; the rest follow the five talent platforms and what county
volunteer centres commonly offer. A deployment edits the catalog in its database;
this list is only what a new database starts with.
"""

from __future__ import annotations

from typing import NamedTuple


class SeedItem(NamedTuple):
    code: str
    name: str
    name_en: str


class SeedCategory(NamedTuple):
    code: str
    name: str
    name_en: str
    items: tuple[SeedItem, ...]


SEED_CATALOG: tuple[SeedCategory, ...] = (
    SeedCategory(
        "theory",
        "理论宣讲",
        "Theory lectures",
        (
            SeedItem("theory.policy", "政策理论宣讲", "Policy and theory talks"),
            SeedItem("theory.moral_models", "道德模范宣讲", "Moral-model lectures"),
            SeedItem("theory.rural_revitalization", "乡村振兴宣讲", "Rural revitalisation talks"),
        ),
    ),
    SeedCategory(
        "civility",
        "文明引导",
        "Civility guidance",
        (
            SeedItem("civility.traffic", "文明交通劝导", "Safe and civil traffic guidance"),
            SeedItem("civility.customs", "移风易俗倡导", "Reforming wasteful customs"),
            SeedItem("civility.public_order", "公共秩序维护", "Keeping public order at events"),
        ),
    ),
    SeedCategory(
        "education",
        "教育服务",
        "Education services",
        (
            SeedItem("education.tutoring", "课业辅导", "Homework tutoring"),
            SeedItem("education.left_behind", "留守儿童关爱", "Care for left-behind children"),
            SeedItem("education.family", "家庭教育指导", "Family education guidance"),
        ),
    ),
    SeedCategory(
        "science",
        "科学普及",
        "Science popularisation",
        (
            SeedItem("science.lectures", "科普知识讲座", "Popular science lectures"),
            SeedItem("science.anti_fraud", "防范电信诈骗宣传", "Telecom-fraud prevention"),
            SeedItem("science.smartphone", "智能手机使用培训", "Smartphone skills for the elderly"),
        ),
    ),
    SeedCategory(
        "agritech",
        "农业技术",
        "Farming technology",
        (
            SeedItem(
                "agritech.training", "农用实用技术培训", "Practical farming-technology training"
            ),
            SeedItem("agritech.livestock", "畜牧养殖指导", "Livestock-raising guidance"),
            SeedItem("agritech.ecommerce", "农产品电商助销", "Selling farm produce online"),
        ),
    ),
    SeedCategory(
        "culture",
        "文化服务",
        "Culture services",
        (
            SeedItem("culture.heritage", "非遗文化传承", "Intangible-heritage transmission"),
            SeedItem("culture.performance", "文艺演出", "Cultural performances"),
            SeedItem("culture.reading", "全民阅读推广", "Reading promotion"),
        ),
    ),
    SeedCategory(
        "fitness",
        "健身体育",
        "Fitness and sports",
        (
            SeedItem("fitness.guidance", "科学健身指导", "Exercise guidance"),
            SeedItem("fitness.events", "群众体育活动", "Community sports events"),
        ),
    ),
    SeedCategory(
        "environment",
        "卫生环保",
        "Health and environment",
        (
            SeedItem("environment.sanitation", "人居环境整治", "Village clean-up"),
            SeedItem("environment.waste_sorting", "垃圾分类宣传", "Waste-sorting guidance"),
            SeedItem("environment.greening", "植树护绿", "Tree planting and green care"),
        ),
    ),
    SeedCategory(
        "health",
        "医疗健康",
        "Medical and health",
        (
            SeedItem("health.clinic", "义诊巡诊", "Free clinics and health checks"),
            SeedItem("health.chronic", "慢病健康管理", "Chronic-disease care"),
            SeedItem("health.mental", "心理健康辅导", "Mental-health counselling"),
        ),
    ),
    SeedCategory(
        "care",
        "关爱帮扶",
        "Care and assistance",
        (
            SeedItem("care.elderly_visit", "空巢老人探访", "Visiting elderly people living alone"),
            SeedItem("care.disability", "助残服务", "Help for people with disabilities"),
            SeedItem("care.errands", "代购代办", "Errands and paperwork"),
        ),
    ),
    SeedCategory(
        "legal",
        "法律服务",
        "Legal services",
        (
            SeedItem("legal.consultation", "法律咨询", "Legal advice"),
            SeedItem("legal.mediation", "矛盾纠纷调解", "Dispute mediation"),
            SeedItem("legal.education", "普法宣传", "Legal education"),
        ),
    ),
    SeedCategory(
        "rescue",
        "应急救援",
        "Emergency rescue",
        (
            SeedItem("rescue.disaster", "防灾减灾", "Disaster prevention and relief"),
            SeedItem("rescue.first_aid", "应急救护培训", "First-aid training"),
        ),
    ),
    SeedCategory(
        "neighbourhood",
        "便民服务",
        "Neighbourhood help",
        (
            SeedItem("neighbourhood.repairs", "家电维修", "Household appliance repair"),
            SeedItem("neighbourhood.haircut", "义务理发", "Free haircuts"),
        ),
    ),
)
