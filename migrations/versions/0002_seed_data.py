"""Seed data: the service menu (13 categories, 36 sub-items) and the demo county's townships.

The menu is built from the county article: the four named categories (文明引导, 应急救援,
科学普及, 卫生环保) and the four named sub-items (道德模范宣讲, 非遗文化传承,
农用实用技术培训, 心理健康辅导) are here; the rest follow the five talent platforms and
what county volunteer centres commonly offer. The townships are those of Songtao Miao
Autonomous County. A deployment edits both in its database. The data is written out here,
not imported, so this migration does the same thing for ever.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CATALOG: tuple[tuple[str, str, str, tuple[tuple[str, str, str], ...]], ...] = (
    (
        "theory",
        "理论宣讲",
        "Theory lectures",
        (
            ("theory.policy", "政策理论宣讲", "Policy and theory talks"),
            ("theory.moral_models", "道德模范宣讲", "Moral-model lectures"),
            ("theory.rural_revitalization", "乡村振兴宣讲", "Rural revitalisation talks"),
        ),
    ),
    (
        "civility",
        "文明引导",
        "Civility guidance",
        (
            ("civility.traffic", "文明交通劝导", "Safe and civil traffic guidance"),
            ("civility.customs", "移风易俗倡导", "Reforming wasteful customs"),
            ("civility.public_order", "公共秩序维护", "Keeping public order at events"),
        ),
    ),
    (
        "education",
        "教育服务",
        "Education services",
        (
            ("education.tutoring", "课业辅导", "Homework tutoring"),
            ("education.left_behind", "留守儿童关爱", "Care for left-behind children"),
            ("education.family", "家庭教育指导", "Family education guidance"),
        ),
    ),
    (
        "science",
        "科学普及",
        "Science popularisation",
        (
            ("science.lectures", "科普知识讲座", "Popular science lectures"),
            ("science.anti_fraud", "防范电信诈骗宣传", "Telecom-fraud prevention"),
            ("science.smartphone", "智能手机使用培训", "Smartphone skills for the elderly"),
        ),
    ),
    (
        "agritech",
        "农业技术",
        "Farming technology",
        (
            ("agritech.training", "农用实用技术培训", "Practical farming-technology training"),
            ("agritech.livestock", "畜牧养殖指导", "Livestock-raising guidance"),
            ("agritech.ecommerce", "农产品电商助销", "Selling farm produce online"),
        ),
    ),
    (
        "culture",
        "文化服务",
        "Culture services",
        (
            ("culture.heritage", "非遗文化传承", "Intangible-heritage transmission"),
            ("culture.performance", "文艺演出", "Cultural performances"),
            ("culture.reading", "全民阅读推广", "Reading promotion"),
        ),
    ),
    (
        "fitness",
        "健身体育",
        "Fitness and sports",
        (
            ("fitness.guidance", "科学健身指导", "Exercise guidance"),
            ("fitness.events", "群众体育活动", "Community sports events"),
        ),
    ),
    (
        "environment",
        "卫生环保",
        "Health and environment",
        (
            ("environment.sanitation", "人居环境整治", "Village clean-up"),
            ("environment.waste_sorting", "垃圾分类宣传", "Waste-sorting guidance"),
            ("environment.greening", "植树护绿", "Tree planting and green care"),
        ),
    ),
    (
        "health",
        "医疗健康",
        "Medical and health",
        (
            ("health.clinic", "义诊巡诊", "Free clinics and health checks"),
            ("health.chronic", "慢病健康管理", "Chronic-disease care"),
            ("health.mental", "心理健康辅导", "Mental-health counselling"),
        ),
    ),
    (
        "care",
        "关爱帮扶",
        "Care and assistance",
        (
            ("care.elderly_visit", "空巢老人探访", "Visiting elderly people living alone"),
            ("care.disability", "助残服务", "Help for people with disabilities"),
            ("care.errands", "代购代办", "Errands and paperwork"),
        ),
    ),
    (
        "legal",
        "法律服务",
        "Legal services",
        (
            ("legal.consultation", "法律咨询", "Legal advice"),
            ("legal.mediation", "矛盾纠纷调解", "Dispute mediation"),
            ("legal.education", "普法宣传", "Legal education"),
        ),
    ),
    (
        "rescue",
        "应急救援",
        "Emergency rescue",
        (
            ("rescue.disaster", "防灾减灾", "Disaster prevention and relief"),
            ("rescue.first_aid", "应急救护培训", "First-aid training"),
        ),
    ),
    (
        "neighbourhood",
        "便民服务",
        "Neighbourhood help",
        (
            ("neighbourhood.repairs", "家电维修", "Household appliance repair"),
            ("neighbourhood.haircut", "义务理发", "Free haircuts"),
        ),
    ),
)

TOWNSHIPS: tuple[tuple[str, str], ...] = (
    ("蓼皋街道", "Liaogao"),
    ("九江街道", "Jiujiang"),
    ("大兴街道", "Daxing"),
    ("世昌街道", "Shichang"),
    ("太平营街道", "Taipingying"),
    ("盘信镇", "Panxin"),
    ("大坪场镇", "Dapingchang"),
    ("普觉镇", "Pujue"),
    ("寨英镇", "Zhaiying"),
    ("孟溪镇", "Mengxi"),
    ("乌罗镇", "Wuluo"),
    ("甘龙镇", "Ganlong"),
    ("长兴堡镇", "Changxingbao"),
    ("迓驾镇", "Yajia"),
    ("牛郎镇", "Niulang"),
    ("黄板镇", "Huangban"),
    ("盘石镇", "Panshi"),
    ("正大镇", "Zhengda"),
    ("平头乡", "Pingtou"),
    ("大路乡", "Dalu"),
    ("木树乡", "Mushu"),
    ("冷水溪乡", "Lengshuixi"),
    ("石梁乡", "Shiliang"),
    ("瓦溪乡", "Waxi"),
    ("永安乡", "Yong'an"),
    ("长坪乡", "Changping"),
)

categories = sa.table(
    "categories",
    sa.column("code", sa.String),
    sa.column("name", sa.String),
    sa.column("name_en", sa.String),
    sa.column("position", sa.Integer),
)
items = sa.table(
    "catalog_items",
    sa.column("code", sa.String),
    sa.column("category_code", sa.String),
    sa.column("name", sa.String),
    sa.column("name_en", sa.String),
    sa.column("position", sa.Integer),
    sa.column("active", sa.Boolean),
)
townships = sa.table(
    "townships",
    sa.column("name", sa.String),
    sa.column("name_en", sa.String),
    sa.column("position", sa.Integer),
)


def upgrade() -> None:
    op.bulk_insert(
        categories,
        [
            {"code": code, "name": name, "name_en": name_en, "position": n}
            for n, (code, name, name_en, _items) in enumerate(CATALOG)
        ],
    )
    op.bulk_insert(
        items,
        [
            {
                "code": item_code,
                "category_code": code,
                "name": item_name,
                "name_en": item_en,
                "position": n,
                "active": True,
            }
            for code, _name, _en, category_items in CATALOG
            for n, (item_code, item_name, item_en) in enumerate(category_items)
        ],
    )
    op.bulk_insert(
        townships,
        [{"name": name, "name_en": en, "position": n} for n, (name, en) in enumerate(TOWNSHIPS)],
    )


def downgrade() -> None:
    op.execute(townships.delete().where(townships.c.name.in_([n for n, _ in TOWNSHIPS])))
    codes = [c[0] for c in CATALOG]
    op.execute(items.delete().where(items.c.category_code.in_(codes)))
    op.execute(categories.delete().where(categories.c.code.in_(codes)))
