"""The pytest plugin, as a user's own test suite would use it (run in a separate pytest process)."""

from __future__ import annotations

import pytest

USER_TEST = """
import openai
import llmwatch


@llmwatch.prompt(name="greet", version="1")
def greet(client, name):
    reply = client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": f"Say hello to {name}"}]
    )
    return reply.choices[0].message.content


def test_greeting_is_one_cheap_call(llmwatch_spans, llmwatch_fake_server):
    client = openai.OpenAI(base_url=llmwatch_fake_server.url, api_key="test")

    assert greet(client, "Ada")

    (call,) = llmwatch_spans.llm_spans()
    assert call.name == "chat gpt-4o-mini"
    assert call.attributes["llmwatch.prompt.name"] == "greet"
    assert call.attributes["llmwatch.cost.total_usd"] < 0.001
"""


def test_fixtures_in_a_users_test_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_app=USER_TEST)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1)
