"""有呼必应: residents and volunteers report, the street dispatches, departments respond, on time and measured."""
