"""The Telegram webhook: secret token, real update JSON, replies through the real Bot client."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from bot.handler import ChoiceEvent, TextEvent
from sealbook.standins.telegram_api import TelegramApiStandin
from storage.models.contacts import Contact
from storage.models.inbound import InboundMessage
from tests.bot.conftest import TELEGRAM_SECRET, EchoDialogue, count_rows

CHAT_ID = 412345678
USER = {"id": CHAT_ID, "is_bot": False, "first_name": "Pat", "language_code": "en"}
PRIVATE_CHAT = {"id": CHAT_ID, "type": "private", "first_name": "Pat"}


def _message(update_id: int, **content: Any) -> dict[str, Any]:
    message = {"message_id": update_id + 1000, "date": 1804665600, "chat": PRIVATE_CHAT, "from": USER}
    message.update(content)
    return {"update_id": update_id, "message": message}


def _text(update_id: int, text: str) -> dict[str, Any]:
    update = _message(update_id, text=text)
    if text.startswith("/"):
        length = len(text.split()[0])
        update["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return update


def _callback(update_id: int, data: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cbq-{update_id}",
            "from": USER,
            "chat_instance": "-5000",
            "data": data,
            "message": {
                "message_id": 55,
                "date": 1804665600,
                "chat": PRIVATE_CHAT,
                "from": {"id": 700000001, "is_bot": True, "first_name": "sealbook"},
                "text": "Pick a time",
            },
        },
    }


async def _post(
    client: httpx.AsyncClient, update: object, secret: str | None = TELEGRAM_SECRET
) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    return await client.post("/telegram", content=json.dumps(update), headers=headers)


@pytest.fixture
def standin(telegram_api: tuple[TelegramApiStandin, str]) -> TelegramApiStandin:
    """Return the Bot API stand-in that the app's client talks to."""
    return telegram_api[0]


async def test_text_message_answered_with_send_message(
    client: httpx.AsyncClient, standin: TelegramApiStandin, dialogue: EchoDialogue
) -> None:
    """A text message runs the dialogue and the reply goes out through sendMessage to the chat."""
    response = await _post(client, _text(1, "book a consult"))

    assert response.status_code == 200
    sent = standin.calls_of("sendMessage")
    assert [(call.params["chat_id"], call.params["text"]) for call in sent] == [
        (CHAT_ID, "echo: book a consult")
    ]
    assert [event for _, _, event in dialogue.turns] == [TextEvent("book a consult")]


@pytest.mark.parametrize(
    ("text", "command"),
    [
        ("/start", "start"),
        ("/help", "help"),
        ("/book", "book"),
        ("/mybookings", "mybookings"),
        ("/BOOK@sb_bot", "book"),
        ("/start campaign42", "start"),
    ],
)
async def test_commands_reach_dialogue(
    client: httpx.AsyncClient, dialogue: EchoDialogue, text: str, command: str
) -> None:
    """The bot's commands reach the dialogue as ``/name`` text, without the bot's name or extra words."""
    await _post(client, _text(2, text))

    assert [event for _, _, event in dialogue.turns] == [TextEvent(f"/{command}")]


async def test_unknown_command_is_text(client: httpx.AsyncClient, dialogue: EchoDialogue) -> None:
    """A slash word that is not one of the bot's commands is passed on as text."""
    await _post(client, _text(3, "/settings"))

    assert [event for _, _, event in dialogue.turns] == [TextEvent("/settings")]


async def test_choices_become_inline_buttons(client: httpx.AsyncClient, standin: TelegramApiStandin) -> None:
    """Offered choices are sent as inline buttons whose callback data is the choice id."""
    await _post(client, _text(4, "choices"))

    (call,) = standin.calls_of("sendMessage")
    keyboard = call.params["reply_markup"]["inline_keyboard"]
    assert [[(button["text"], button["callback_data"]) for button in row] for row in keyboard] == [
        [("Tue 9:00am", "c1")],
        [("Wed 10:30am", "c2")],
    ]


async def test_callback_query_answered_and_dispatched(
    client: httpx.AsyncClient, standin: TelegramApiStandin, dialogue: EchoDialogue
) -> None:
    """A button tap is answered with answerCallbackQuery and reaches the dialogue as the choice id."""
    await _post(client, _callback(5, "c2"))

    assert [call.params["callback_query_id"] for call in standin.calls_of("answerCallbackQuery")] == ["cbq-5"]
    assert [event for _, _, event in dialogue.turns] == [ChoiceEvent("c2")]
    assert [call.params["chat_id"] for call in standin.calls_of("sendMessage")] == [CHAT_ID]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", TELEGRAM_SECRET + "x", TELEGRAM_SECRET[:-1]])
async def test_wrong_secret_refused(
    client: httpx.AsyncClient,
    standin: TelegramApiStandin,
    session_factory: sessionmaker[Session],
    secret: str | None,
) -> None:
    """An update without the exact secret token gets 403 with no Bot API call and no database row."""
    response = await _post(client, _text(6, "hello"), secret=secret)

    assert response.status_code == 403
    assert standin.calls == []
    assert count_rows(session_factory, InboundMessage) == 0
    assert count_rows(session_factory, Contact) == 0


async def test_redelivered_update_sends_once(
    client: httpx.AsyncClient, standin: TelegramApiStandin, dialogue: EchoDialogue
) -> None:
    """An update_id delivered twice, or four times at once, is acted on once."""
    update = _text(7, "hello")

    await _post(client, update)
    responses = await asyncio.gather(*(_post(client, update) for _ in range(4)))

    assert [response.status_code for response in responses] == [200] * 4
    assert len(standin.calls_of("sendMessage")) == 1
    assert len(dialogue.turns) == 1


@pytest.mark.parametrize(
    "content",
    [
        {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "u1",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        },
        {"photo": [{"file_id": "p1", "file_unique_id": "u2", "width": 90, "height": 90}]},
        {"voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 3}},
    ],
)
async def test_non_text_message_asks_for_text(
    client: httpx.AsyncClient, standin: TelegramApiStandin, dialogue: EchoDialogue, content: dict[str, Any]
) -> None:
    """A sticker, photo or voice note gets a short request to send text, and no dialogue turn."""
    response = await _post(client, _message(8, **content))

    assert response.status_code == 200
    texts = [call.params["text"] for call in standin.calls_of("sendMessage")]
    assert len(texts) == 1
    assert "send your request as text" in texts[0]
    assert dialogue.turns == []


@pytest.mark.parametrize(
    "update",
    [
        {"update_id": 9, "edited_message": _text(0, "edited")["message"]},
        {
            "update_id": 9,
            "channel_post": {
                "message_id": 1,
                "date": 1804665600,
                "chat": {"id": -100123, "type": "channel", "title": "News"},
                "text": "post",
            },
        },
        {
            "update_id": 9,
            "message": {
                **_text(0, "hi all")["message"],
                "chat": {"id": -4001, "type": "group", "title": "Family"},
            },
        },
        {
            "update_id": 9,
            "my_chat_member": {
                "chat": PRIVATE_CHAT,
                "from": USER,
                "date": 1804665600,
                "old_chat_member": {"status": "member", "user": USER},
                "new_chat_member": {"status": "kicked", "user": USER, "until_date": 0},
            },
        },
    ],
    ids=["edited", "channel-post", "group", "member-update"],
)
async def test_other_update_kinds_ignored(
    client: httpx.AsyncClient, standin: TelegramApiStandin, dialogue: EchoDialogue, update: dict[str, Any]
) -> None:
    """Edited messages, channel posts, group messages and membership changes get 200 and nothing else."""
    response = await _post(client, update)

    assert response.status_code == 200
    assert standin.calls_of("sendMessage") == []
    assert dialogue.turns == []


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b"null",
        b'{"update_id": "7"}',
        b'{"update_id": 10, "message": {}}',
        b'{"update_id": 10, "message": {"chat": 5}}',
        b'{"update_id": 11, "callback_query": {"id": "x"}}',
        b"[" * 5000 + b"]" * 5000,
    ],
    ids=[
        "broken",
        "binary",
        "list",
        "null",
        "string-id",
        "empty-message",
        "bad-chat",
        "bad-callback",
        "deep",
    ],
)
async def test_malformed_updates_acknowledged(
    client: httpx.AsyncClient, standin: TelegramApiStandin, body: bytes
) -> None:
    """Malformed JSON and updates missing their fields get 200 and no reply, never a 500."""
    response = await client.post(
        "/telegram", content=body, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
    )

    assert response.status_code == 200
    assert standin.calls_of("sendMessage") == []


async def test_oversized_update_refused(client: httpx.AsyncClient) -> None:
    """An update body over 64 KiB gets 413."""
    response = await _post(client, _text(12, "x" * 70_000))

    assert response.status_code == 413


async def test_dialogue_failure_gets_apology(client: httpx.AsyncClient, standin: TelegramApiStandin) -> None:
    """A failing dialogue turn is answered with an apology through sendMessage."""
    response = await _post(client, _text(13, "boom"))

    assert response.status_code == 200
    assert "something went wrong" in standin.calls_of("sendMessage")[0].params["text"]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
_UPDATE_KEYS = st.sampled_from(["message", "callback_query", "edited_message", "channel_post", "x"])
_MESSAGE_KEYS = st.sampled_from(
    ["message_id", "date", "chat", "from", "text", "sticker", "photo", "entities"]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    update_id=st.integers(min_value=1, max_value=2**31),
    kind=_UPDATE_KEYS,
    fields=st.dictionaries(_MESSAGE_KEYS, _JSON, max_size=6),
    chat=st.fixed_dictionaries(
        {"id": st.integers() | st.text(max_size=5), "type": st.sampled_from(["private", "group", 3])}
    ),
)
async def test_arbitrary_updates_never_fail(
    client: httpx.AsyncClient, update_id: int, kind: str, fields: dict[str, Any], chat: dict[str, Any]
) -> None:
    """Updates of arbitrary shape, authenticated with the secret, get a 2xx."""
    update = {"update_id": update_id, kind: {"chat": chat, **fields}}

    response = await _post(client, update)

    assert response.status_code == 200
