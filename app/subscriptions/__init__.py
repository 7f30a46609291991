"""订阅消息: what residents allowed through wx.requestSubscribeMessage, and the outbox that sends them."""
