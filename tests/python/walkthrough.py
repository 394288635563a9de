#!/usr/bin/env python3
"""The README walkthrough ("a trigger that sends a webhook"), driven through a Python client that
openapi-python-client generated from Ringhook's own `GET /v1/openapi.json`.

    walkthrough.py --client-dir DIR --document doc.json --base-url URL --api-key KEY
                   --receiver-url URL --events-dir DIR --result result.json

DIR holds the generated package (`ringhook_client`, see openapi-python-client.yaml). The steps:
create a webhook pointing at RECEIVER_URL/agent-wrap, create the seed's "Send Webhook on Agent
Wrap" trigger delivering to it, post the seed's agent.wrap event once in campaign 215 (it fires)
and once as printed in the seed, in campaign 20161 (it does not), then read the delivery log
until the webhook's delivery has succeeded, and read that delivery with its attempts.

Every call goes through the generated operation's module: its URL, its authenticated client,
its response parsing. Where the generated function cannot do a step by itself because the
document does not say enough (no request body, an undeclared query parameter, no response
schema), the script does that one part by hand, through the same generated module, and records
it as a *gap*; it also records what the document lacks for usable names (operationId, tags).

Writes RESULT as JSON: {"webhookId", "triggerId", "eventIds", "deliveryId", "gaps": [...]}.
Exit 0 when the walkthrough completed (gaps or not; the caller judges them), 1 when it failed.
"""

import argparse
import importlib
import inspect
import json
import re
import sys
import time
import typing

# ---- The generated names: the one section to update when the document changes. ----------
# Which generated module does each step, and the document operation it is (for the gap report).
# openapi-python-client puts an operation in `api/<first tag>/<operationId>.py`, snake-cased;
# without tags, in `api/default/`; without an operationId, named after method and path.
PACKAGE = "ringhook_client"
OPERATIONS = {
    # step: (module under PACKAGE.api, method, path template)
    "create_webhook": ("webhooks.create_webhook", "post", "/v1/webhooks"),
    "create_trigger": ("triggers.create_trigger", "post", "/v1/triggers"),
    "post_event": ("events.post_events", "post", "/v1/events"),
    "list_deliveries": ("deliveries.list_deliveries", "get", "/v1/deliveries"),
    "get_delivery": ("deliveries.get_delivery", "get", "/v1/deliveries/{id}"),
}
# ------------------------------------------------------------------------------------------

WAIT_SECS = 20.0

# What the document lacks, per step (reported in OPERATIONS' order).
gaps: dict[str, list[str]] = {step: [] for step in OPERATIONS}


def gap(step: str, what: str) -> None:
    _, method, path = OPERATIONS[step]
    line = f"{method.upper()} {path}: {what}"
    if line not in gaps[step]:
        gaps[step].append(line)
        print(f"gap: {line}", file=sys.stderr)


def snake(name: str) -> str:
    """openapi-python-client's Python name for a parameter (camelCase to snake_case)."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).replace("-", "_").lower()


def body_models(function) -> list:
    """The generated model classes of `function`'s `body` argument (several for a oneOf body,
    such as one event or a batch), if it has any."""
    try:
        hint = typing.get_type_hints(function).get("body")
        candidates = (hint, *typing.get_args(hint)) if hint is not None else ()
    except NameError:
        # An annotation naming a type imported only for type checkers: look the names up in
        # the generated models instead.
        annotation = inspect.signature(function).parameters.get("body")
        models = importlib.import_module(f"{PACKAGE}.models")
        names = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", str(annotation.annotation)) if annotation else []
        candidates = tuple(getattr(models, n) for n in names if hasattr(models, n))
    return [c for c in candidates if hasattr(c, "from_dict")]


def to_model(models: list, body: dict) -> typing.Any:
    """`body` as the first of `models` it is an instance of (a model's from_dict raises on a
    missing required field)."""
    errors = []
    for model in models:
        try:
            return model.from_dict(body)
        except (KeyError, TypeError, ValueError) as e:
            errors.append(f"{model.__name__}: {e!r}")
    raise SystemExit(f"the body is none of the generated models ({'; '.join(errors)}): {body}")


class Api:
    """Calls the generated operations, filling in by hand (and recording) what they lack."""

    def __init__(self, document: dict, base_url: str, api_key: str):
        self.document = document
        client = importlib.import_module(PACKAGE)
        self.client = client.AuthenticatedClient(base_url=base_url, token=api_key, raise_on_unexpected_status=False)
        self.modules = {}
        for step, (module, method, path) in OPERATIONS.items():
            try:
                self.modules[step] = importlib.import_module(f"{PACKAGE}.api.{module}")
            except ImportError as e:
                raise SystemExit(
                    f"the generated client has no {PACKAGE}.api.{module} for {method.upper()} {path} ({e}); "
                    "update OPERATIONS in walkthrough.py to the names the document now produces"
                )
            self.check_names(step)

    def check_names(self, step: str) -> None:
        _, method, path = OPERATIONS[step]
        op = self.document.get("paths", {}).get(path, {}).get(method)
        if op is None:
            gap(step, "not in the document")
            return
        if not op.get("operationId"):
            gap(step, "no operationId: the generated function is named after the method and path")
        if not op.get("tags"):
            gap(step, "no tags: the generated module sits in api/default with every other operation")

    def call(self, step: str, status: int, body=None, query=None, **path_params) -> dict:
        """Runs `step`; returns the answer's JSON (a dict) after checking its status."""
        module = self.modules[step]
        function = module.sync_detailed
        params = inspect.signature(function).parameters
        kwargs = dict(path_params)
        by_hand = {}
        if body is not None:
            models = body_models(function)
            if models:
                kwargs["body"] = to_model(models, body)
            elif "body" in params:
                kwargs["body"] = body
            else:
                gap(step, "the generated function takes no request body (the document has no requestBody)")
                by_hand["json"] = body
        for name, value in (query or {}).items():
            if snake(name) in params:
                kwargs[snake(name)] = value
            else:
                gap(step, f"no query parameter {name!r} in the generated function (not declared)")
                by_hand.setdefault("params", {})[name] = value
        if by_hand:
            # The generated module still builds the request (method, URL, path parameters) and
            # parses the answer; only what it cannot express is added here.
            request = module._get_kwargs(**{k: v for k, v in kwargs.items() if k != "body"})
            request.update(by_hand)
            response = module._build_response(client=self.client, response=self.client.get_httpx_client().request(**request))
        else:
            response = function(client=self.client, **kwargs)
        if int(response.status_code) != status:
            raise SystemExit(
                f"{step}: expected {status}, got {int(response.status_code)}: {response.content.decode(errors='replace')}"
            )
        parsed = response.parsed
        if hasattr(parsed, "to_dict"):
            return parsed.to_dict()
        if isinstance(parsed, dict):
            return parsed
        gap(step, f"no schema for the {status} answer: the generated client returns it untyped (parsed = {parsed!r})")
        return json.loads(response.content)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--client-dir", required=True)
    ap.add_argument("--document", required=True)
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--receiver-url", required=True)
    ap.add_argument("--events-dir", required=True)
    ap.add_argument("--result", required=True)
    args = ap.parse_args()
    sys.path.insert(0, args.client_dir)
    with open(args.document) as f:
        api = Api(json.load(f), args.base_url, args.api_key)

    webhook = api.call("create_webhook", 201, body={"name": "echo", "url": f"{args.receiver_url}/agent-wrap"})
    webhook_id = webhook["id"]
    print(f"webhook {webhook_id} (signing secret shown once: {str(webhook.get('signingSecret'))[:10]}...)", file=sys.stderr)

    trigger = api.call(
        "create_trigger",
        201,
        body={
            "name": "Send Webhook on Agent Wrap",
            "eventType": "agent.wrap",
            "enabled": True,
            "conditions": [{"reference": "campaignId", "operator": "in", "value": "215,223"}],
            "actions": [{"action": "webhook", "parameters": {"webhookId": webhook_id}}],
        },
    )
    trigger_id = trigger["id"]
    print(f"trigger {trigger_id}", file=sys.stderr)

    with open(f"{args.events_dir}/triggers/payloads/agent.wrap.outbound-preview.json") as f:
        seed = json.load(f)
    assert seed["payload"]["campaignId"] == "20161", seed["payload"]["campaignId"]
    fires = json.loads(json.dumps(seed))
    fires["payload"]["campaignId"] = "215"
    event_ids = []
    for event in (fires, seed):
        answer = api.call("post_event", 202, body=event)
        event_ids.extend(answer["ids"])
    print(f"events {event_ids}", file=sys.stderr)

    deadline = time.monotonic() + WAIT_SECS
    while True:
        listed = api.call("list_deliveries", 200, query={"webhookId": webhook_id})
        done = [d for d in listed["deliveries"] if d["status"] == "succeeded"]
        if done:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"no succeeded delivery for {webhook_id} within {WAIT_SECS}s: {listed}")
        time.sleep(0.1)
    if len(listed["deliveries"]) != 1:
        raise SystemExit(f"expected one delivery (campaign 215 only), the log has: {listed}")
    delivery = api.call("get_delivery", 200, id=done[0]["id"])
    if delivery["eventId"] != event_ids[0] or delivery["triggerId"] != trigger_id:
        raise SystemExit(f"the delivery is not the campaign-215 event's through the trigger: {delivery}")
    attempts = delivery["attempts"]
    if not attempts or not attempts[-1]["success"] or attempts[-1]["response"]["status"] != 200:
        raise SystemExit(f"the delivery's attempts show no success: {delivery}")
    print(f"delivery {delivery['id']}: {len(attempts)} attempt(s), last answered {attempts[-1]['response']['status']}",
          file=sys.stderr)

    with open(args.result, "w") as f:
        json.dump(
            {"webhookId": webhook_id, "triggerId": trigger_id, "eventIds": event_ids, "deliveryId": delivery["id"],
             "gaps": [line for step in OPERATIONS for line in gaps[step]]},
            f,
            indent=2,
        )
    count = sum(len(lines) for lines in gaps.values())
    print(f"walkthrough done through the generated client; {count} gap(s) in the document", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
