"""What a person reads for each of the API's error codes (the pages never show server text).

The API answers ``{"code": ..., "detail": ...}``; ``detail`` is for developers. The pages look
the code up here, through the reader's catalog. A code missing here falls back to ``FALLBACK``,
and a test keeps every code the API can send listed.
"""

from __future__ import annotations

from typing import Final


def N_(message: str) -> str:
    """Marks a msgid for the catalog; translated when the page is rendered."""
    return message


FALLBACK: Final = N_("出了点问题，请稍后再试。急事请拨打服务热线。")
# The reader's own network only when the phone says it is offline; a request that got no
# answer while online, or a 5xx, is the service's fault, not theirs.
OFFLINE: Final = N_("您的手机没有连上网络，请连上网络后再试。")
UNREACHABLE: Final = N_("暂时连不上服务，请稍后再试。急事请拨打服务热线。")
SERVER: Final = N_("服务暂时出了故障，不是您操作的问题，请稍后再试。急事请拨打服务热线。")

TEXT: Final[dict[str, str]] = {
    # Sign-in and access.
    "NotSignedIn": N_("请先登录。"),
    "InvalidToken": N_("登录已过期，请重新登录。"),
    "Forbidden": N_("您没有权限进行这项操作。"),
    "NotFound": N_("没有找到这条记录，请核对后再试。"),
    "InvalidRequest": N_("填写的内容有误，请检查标红的项目。"),
    "MethodNotAllowed": N_("这个地址不支持这种操作，请刷新页面后再试。"),
    "HttpError": N_("请求有误，请刷新页面后再试。"),
    "RateLimited": N_("操作太频繁了，请稍等一会儿再试。"),
    "InvalidCode": N_("验证码不对或已过期，请重新获取。"),
    "InvalidCredentials": N_("账号或密码不对。"),
    "WeakPassword": N_("密码太短了：至少要12个字符。"),
    "DuplicateUsername": N_("这个用户名已经有人用了，请换一个。"),
    "InvalidRefreshToken": N_("登录已过期，请重新登录。"),
    "RateLimitUnavailable": N_("系统繁忙，请稍后再试。"),
    "InvalidPhone": N_("请填写正确的11位手机号。"),
    "PhoneRequired": N_("请填写手机号。"),
    "NotYourPhone": N_("只能用登录的手机号求助。"),
    "InvalidRole": N_("账号角色不对。"),
    "InvalidChannel": N_("求助渠道不对。"),
    "UnknownReference": N_("选择的项目已不存在，请刷新页面后重选。"),
    "IdempotencyKeyReused": N_("这张单子已经提交过了，请刷新页面。"),
    "InvalidPeriod": N_("结束时间不能早于开始时间。"),
    "NoVerifiedHours": N_("还没有经回访核实的服务时长，暂不能出具证明。"),
    "RequestTooLarge": N_("内容太大了，请缩小后再试。"),
    # The order's steps.
    "InvalidTransition": N_("这张单子现在不能这样操作，请刷新看看最新进度。"),
    "NotAssignedVolunteer": N_("这张单子没有派给您。"),
    "AlreadyDeclined": N_("您已经推辞过这张单子。"),
    "OrderFinished": N_("这张单子已经办结或取消了。"),
    "ReviewWindowClosed": N_("评价期已过，中心会电话回访您。"),
    "FollowUpMismatch": N_("回访记录和单子对不上，请刷新。"),
    "AlreadyTaken": N_("这张单子已经有人接了。"),
    "NotUnitLeader": N_("只有队长可以指派。"),
    "RatingRequired": N_("请选择满意程度。"),
    "WorkflowLost": N_("这张单子需要中心处理，请拨打服务热线。"),
    "Conflict": N_("别人刚刚改过这张单子，请刷新后再试。"),
    "CommandPending": N_("正在处理，请稍后刷新查看。"),
    "HurryTooSoon": N_("您刚催办过，中心已收到，请过一小时再催。"),
    "ComplaintOpen": N_("您的投诉正在处理中，中心会尽快联系您。"),
    "NotCheckedIn": N_("请先点“到达”，离开时再点“离开”。"),
    "PhotoTooLarge": N_("照片太大了，请选5MB以内的照片。"),
    "PhotoTooManyPixels": N_("照片像素太高了，请用手机直接拍的照片（2500万像素以内）。"),
    "UnsupportedPhoto": N_("只能上传照片（JPG、PNG或WebP格式）。"),
    "TooManyPhotos": N_("每张单子最多上传9张照片。"),
    "UnknownPhoto": N_("有照片没有上传成功，请重新上传。"),
    "InvalidDisplayName": N_("称呼里不能有数字。"),
    "InvalidWindow": N_("服务时间的结束要晚于开始；跨过半夜的请分成两段。"),
    # Desks.
    "ClaimedByOther": N_("这条回访已被其他话务员领取。"),
    "NotClaimHolder": N_("这条回访不是您领取的。"),
    "CallRequestClaimed": N_("这位来电群众已由其他话务员领取，或您还没有领取。"),
    "CallRequestDone": N_("这条回电任务已经办完。"),
    "NotTheCallersOrder": N_("这张单不是为这个来电号码下的，请核对。"),
    "OrderRequired": N_("请先为来电群众下单，再选择“已下单”。"),
    "FollowUpNotOpen": N_("这条回访已经处理完了。"),
    "ComplaintAlreadyResolved": N_("这条投诉已经办结。"),
    "NoCandidates": N_("暂时没有合适的志愿者。"),
    # Registry.
    "DuplicateTownship": N_("这个乡镇已经有了。"),
    "DuplicatePlace": N_("这个村（社区）已经有了。"),
    "VillageOutsideTownship": N_("这个村（社区）不在所选乡镇。"),
    "DuplicateUnit": N_("这个服务队已经有了。"),
    "DuplicateItem": N_("已经有这个代码的服务项目了，请换一个代码。"),
    "InactiveUnit": N_("这个服务队已停用。"),
    "UnitWithoutLeader": N_("这个服务队还没有队长。"),
    "NotUnitMember": N_("这位志愿者不是本队队员。"),
    "NotUnitDispatch": N_("这张单子不是派给本队的。"),
    "DuplicatePhone": N_("这个手机号已经登记过了。"),
    "InactiveVolunteer": N_("这位志愿者已暂停服务。"),
    "SameUnit": N_("已经在这个服务队了。"),
    "LeaderTransfer": N_("请先指定新队长再调走队长。"),
    "NotAnApplication": N_("这不是待审核的申请。"),
    # The system.
    "TemporalUnavailable": N_("系统繁忙，请稍后再试。"),
    "DatabaseUnavailable": N_("系统繁忙，请稍后再试。"),
    "InvalidTwilioSignature": FALLBACK,
}
