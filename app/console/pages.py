"""The console's pages: who each is for, and its place in the navigation.

The roles only decide which links the navigation shows. What a page may show is decided by the API it
calls, exactly as for any other client: a page opened by someone the API refuses shows the refusal."""
from dataclasses import dataclass

STAFF_ROLES = ("admin", "organiser", "health_official", "venue_staff",
               "community_staff", "street_staff", "department_staff")


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    roles: tuple[str, ...]


PAGES = (
    Page("", "工作台", STAFF_ROLES),
    Page("volunteers", "志愿者", ("organiser", "admin")),
    Page("patrols", "巡逻活动", ("organiser", "admin")),
    Page("leaderboards", "积分榜", ("organiser", "admin")),
    Page("groups", "街坊群", ("organiser", "admin")),
    Page("imports", "批量导入", ("admin",)),
    Page("health", "健康码与流调", ("health_official", "admin")),
    Page("venues", "场所", ("organiser", "health_official", "admin")),
    Page("health-history", "持码人记录", ("health_official",)),
    Page("my-venues", "我的场所", ("venue_staff",)),
    Page("dispatch", "有呼必应工单", ("community_staff", "street_staff", "department_staff", "admin")),
    Page("report", "报事详情", ()),  # opened from a queue, so no link in the navigation
    Page("report-stats", "有呼必应统计", ("community_staff", "street_staff", "admin")),
)
BY_SLUG = {page.slug: page for page in PAGES}

# Every page loads these, in order: the core, the charts, the shared pages, each role's pages, then the starter.
SCRIPTS = ("console.js", "charts.js", "pages.js", "organiser.js", "official.js", "venue.js", "dispatch.js", "run.js")
