"""Marshmallow's field messages in Simplified Chinese, so that `errors` reads well to residents."""
import marshmallow as ma

_FIELD = {
    "required": "此项为必填项",
    "null": "此项不能为空",
    "validator_failed": "取值无效",
}
_TYPED = {
    ma.fields.String: {"invalid": "应为文本"},
    ma.fields.Integer: {"invalid": "应为整数", "too_large": "数值过大"},
    ma.fields.Number: {"invalid": "应为数字", "too_large": "数值过大"},
    ma.fields.Float: {"special": "不支持该数值"},
    ma.fields.Boolean: {"invalid": "应为 true 或 false"},
    ma.fields.DateTime: {"invalid": "时间格式无效，应为 ISO 8601", "format": "时间格式无效"},
    ma.fields.Date: {"invalid": "日期格式无效，应为 YYYY-MM-DD"},
    ma.fields.List: {"invalid": "应为列表"},
    ma.fields.Nested: {"type": "应为对象"},
    ma.fields.Dict: {"invalid": "应为对象"},
    ma.fields.UUID: {"invalid_uuid": "应为 UUID"},
}


def install() -> None:
    """Replace marshmallow's English default messages with Chinese ones (idempotent)."""
    ma.fields.Field.default_error_messages.update(_FIELD)
    for field, messages in _TYPED.items():
        field.default_error_messages = {**field.default_error_messages, **messages}
    ma.Schema._default_error_messages = {**ma.Schema._default_error_messages,
                                         "type": "请求体应为 JSON 对象", "unknown": "不接受的字段"}
    ma.validate.Length.message_min = "长度至少为 {min}"
    ma.validate.Length.message_max = "长度至多为 {max}"
    ma.validate.Length.message_all = "长度应在 {min} 到 {max} 之间"
    ma.validate.Length.message_equal = "长度应为 {equal}"
    ma.validate.Range.message_min = "应{min_op} {{min}}"
    ma.validate.Range.message_max = "应{max_op} {{max}}"
    ma.validate.Range.message_all = "应{min_op} {{min}} 且{max_op} {{max}}"
    ma.validate.Range.message_gte, ma.validate.Range.message_gt = "不小于", "大于"
    ma.validate.Range.message_lte, ma.validate.Range.message_lt = "不大于", "小于"
    ma.validate.OneOf.default_message = "应为以下之一：{choices}"
    ma.validate.Regexp.default_message = "格式不正确"
