"""The OpenAPI 3.1 description of the open data, written by hand as Python data.

Schemas set ``additionalProperties: false`` so that the tests, which validate real responses
against them, fail as soon as a view emits a field this document does not describe.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from undersign.api.presenters import CSV_COLUMNS, MAX_PAGE_SIZE, PAGE_SIZE, UK_CSV_COLUMNS
from undersign.petitions.models import PUBLIC_STATES
from undersign.petitions.selectors import LIST_FILTERS, MAX_QUERY_LENGTH

Schema = dict[str, Any]

TIMESTAMP_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]}


def obj(properties: dict[str, Schema], *, description: str = "", optional: tuple[str, ...] = ()) -> Schema:
    schema: Schema = {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def text(description: str) -> Schema:
    return {"type": "string", "description": description}


def when(description: str) -> Schema:
    return {**nullable(ref("Timestamp")), "description": description}


def url(description: str) -> Schema:
    return {"type": "string", "format": "uri", "description": description}


def always_null(description: str) -> Schema:
    return {"type": "null", "description": f"{description} Always null here: kept for the UK site's clients."}


def always_empty(description: str) -> Schema:
    return {
        "type": "array",
        "maxItems": 0,
        "description": f"{description} Always empty here: kept for the UK site's clients.",
    }


DAY = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}


ATTRIBUTES: dict[str, Schema] = {
    "action": {**nullable({"type": "string"}), "description": "What the petition asks for. Null when hidden."},
    "background": {**nullable({"type": "string"}), "description": "Why. Null when hidden."},
    "additional_details": {
        **nullable({"type": "string"}),
        "description": "More details (may be empty). Null when hidden.",
    },
    "language": {
        "type": "string",
        "description": "The language the text is written in: an ISO 639-1 code such as en or ru (also when hidden).",
    },
    "state": {
        "type": "string",
        "enum": [str(state) for state in PUBLIC_STATES],
        "description": "open, closed, rejected, or hidden (rejected and its text taken down).",
    },
    "signature_count": {
        "type": "integer",
        "minimum": 0,
        "description": "Confirmed signatures counted so far: the transparency log's count rule at the "
        "checkpoint named in log.",
    },
    "log": ref("CountedAt"),
    "created_at": {**ref("Timestamp"), "description": "When the petition was first submitted."},
    "updated_at": {
        **ref("Timestamp"),
        "description": "When the petition's record last changed: its text, state, dates or count "
        "(the log's integrator moves it whenever it counts new log entries of the petition).",
    },
    "opened_at": when("When it opened for signatures."),
    "closing_date": {
        **nullable(DAY),
        "description": "While open, the day (UTC) it closes for signatures, as the UK site gives it; null "
        "otherwise. The moment is closes_at.",
    },
    "closes_at": when("When it closes (or closed) for signatures; set from opening. Not on the UK site."),
    "closed_at": when("When it actually closed."),
    "rejected_at": when("When the moderators rejected it."),
    "moderation_threshold_reached_at": when("When it had enough sponsors to be moderated."),
    "response_threshold_reached_at": when("When it reached the signatures needed for a response."),
    "debate_threshold_reached_at": when("When it reached the signatures needed to be considered for a debate."),
    "rejection": {**nullable(ref("Rejection")), "description": "Why it was rejected; null unless rejected or hidden."},
    "response": {**nullable(ref("Response")), "description": "The published response; null if none (or hidden)."},
    "creator_name": {
        **nullable({"type": "string"}),
        "description": "While open, the creator as they chose to appear on the petition page: full name, "
        "or initials only; null if they chose to be counted only or withdrew their signature, and "
        "whenever the petition is not open. Unverified: anyone can type any name.",
    },
    "committee_note": always_null("The UK Petitions Committee's note."),
    "government_response_at": when("When the response was published (response.published_at), as on the UK site."),
    "debate_scheduled_at": always_null("When a debate was scheduled."),
    "scheduled_debate_date": always_null("The day of a scheduled debate."),
    "debate_outcome_at": always_null("When a debate's outcome was recorded."),
    "government_response": {
        **nullable(ref("GovernmentResponse")),
        "description": "The published response in the UK site's shape; null if none (or hidden).",
    },
    "debate": always_null("A parliamentary debate of the petition."),
    "departments": always_empty("Government departments the petition concerns."),
    "topics": always_empty("The petition's topic codes."),
}
DETAIL_ATTRIBUTES: dict[str, Schema] = {
    **ATTRIBUTES,
    "signatures_by_country": always_empty(
        "Signatures per country. Signers give a region, not a country; and a country's figure made from the "
        "live total would, less the published regions, give away a suppressed one."
    ),
    "signatures_by_constituency": always_empty("Signatures per parliamentary constituency: there are none here."),
    "other_parliamentary_business": always_empty("Other parliamentary business about the petition."),
    "signatures_by_region": {
        "type": "array",
        "items": ref("RegionFigure"),
        "description": "Signatures per region as of the latest breakdown snapshot (see breakdown), "
        "every region listed, largest first. Empty when hidden.",
    },
    "breakdown": ref("Breakdown"),
    "verification": {
        **nullable(ref("Verification")),
        "description": "Verified signatories: null when anyone may sign and no registry is involved, and when hidden.",
    },
    "personal_data_destruction_at": when(
        "When the signers' personal data is to be destroyed (or was): closed petitions "
        "PERSONAL_DATA_RETENTION_DAYS after closing (never before the confirmation grace has ended), rejected "
        "and hidden ones REJECTED_PETITION_RETENTION_DAYS after rejection; the retention job runs hourly. "
        "Null while the petition is open. Not on the UK site."
    ),
    "personal_data_destroyed_at": when(
        "When the signers' personal data was destroyed (its data key erased: no names are shown any more); "
        "null until then. Counts, verified figures and the log stay. Not on the UK site."
    ),
}
PETITION_LINKS = obj(
    {
        "self": url("This petition as JSON."),
        "html_url": url("The petition's page."),
        "count_url": url("The count alone, for polling."),
        "signature_history_url": url("Hourly signature history."),
    }
)


def schemas() -> dict[str, Schema]:
    k = settings.K_ANONYMITY
    return {
        "Timestamp": {
            "type": "string",
            "format": "date-time",
            "pattern": TIMESTAMP_PATTERN,
            "description": "ISO 8601 in UTC with milliseconds and Z, e.g. 2025-03-01T09:30:00.000Z.",
        },
        "Error": obj({"error": text("What was wrong with the request.")}),
        "CountedAt": obj(
            {
                "petition_uuid": {
                    "type": "string",
                    "format": "uuid",
                    "description": "The petition's id in the transparency log's entries.",
                },
                "checkpoint_size": {
                    **nullable({"type": "integer", "minimum": 0}),
                    "description": "The log size (checkpoint) signature_count was computed at; null before "
                    "the petition has any log entry.",
                },
                "checkpoint_root_hash": {
                    **nullable({"type": "string", "format": "byte"}),
                    "description": "Base64 RFC 6962 root hash of the log at checkpoint_size.",
                },
            },
            description="Where to check the count: undersign-verify recomputes it from the log's first "
            "checkpoint_size entries (docs/transparency.md).",
        ),
        "Rejection": obj(
            {
                "code": text("Machine-readable reason code."),
                "title": {**nullable({"type": "string"}), "description": "The reason's title."},
                "description": {**nullable({"type": "string"}), "description": "The reason's standard explanation."},
                "details": {
                    **nullable({"type": "string"}),
                    "description": "The moderators' own words, if any; always null for hidden petitions.",
                },
            }
        ),
        "Response": obj(
            {
                "summary": text("One-paragraph summary of the response."),
                "details": text("The full response."),
                "published_at": ref("Timestamp"),
            }
        ),
        "GovernmentResponse": obj(
            {
                "responded_on": {**DAY, "description": "The day (UTC) the response was published."},
                "summary": text("One-paragraph summary of the response."),
                "details": text("The full response."),
                "created_at": {**ref("Timestamp"), "description": "When it was published."},
                "updated_at": {**ref("Timestamp"), "description": "The same: a response is never edited."},
            },
            description="response, in the UK site's shape.",
        ),
        "Verification": obj(
            {
                "policy": {
                    "type": "string",
                    "enum": ["registry_only", "anyone_verified_separately"],
                    "description": "registry_only: only members of the registries may sign; "
                    "anyone_verified_separately: anyone may, verified members are counted apart.",
                },
                "registries": {
                    "type": "array",
                    "items": obj({"name": text("The registry's name."), "slug": text("Its short name.")}),
                },
                "published_at": {
                    **nullable(ref("Timestamp")),
                    "description": "When these figures were published: every verified figure moves only with "
                    "the petition's breakdown snapshots (docs/threat-model.md); null before the first, when "
                    "the counts below are 0. On a registry-only petition verified_count is the log's (see log).",
                },
                "verified_count": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Validated claims of confirmed signatures: the only ones that count as "
                    "verified and toward the quorum. On a registry-only petition, the transparency log's "
                    "verified-count rule at the checkpoint named in log: its decisions enter the log with each "
                    "breakdown snapshot, so it moves with them, and when a verified signature stops counting.",
                },
                "log": {
                    **nullable(
                        obj(
                            {
                                "checkpoint_size": {
                                    **nullable({"type": "integer", "minimum": 0}),
                                    "description": "The log size verified_count was computed at (the same as "
                                    "the petition's log.checkpoint_size); null before the petition has any entry.",
                                },
                                "checkpoint_root_hash": {
                                    **nullable({"type": "string", "format": "byte"}),
                                    "description": "Base64 RFC 6962 root hash of the log at checkpoint_size.",
                                },
                            }
                        )
                    ),
                    "description": "Registry-only petitions: where undersign-verify recomputes verified_count "
                    "(docs/transparency.md, the verified-count rule); null on other petitions.",
                },
                "pending_count": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Claims of confirmed signatures awaiting validation (not verified).",
                },
                "rejected_count": {"type": "integer", "minimum": 0, "description": "Rejected claims."},
                "unclaimed_count": {
                    **nullable({"type": "integer", "minimum": 0}),
                    "description": "On a registry-only petition, signatures counted that are neither verified "
                    "nor awaiting validation; null on other petitions.",
                },
                "by_territory": {
                    "type": "array",
                    "items": ref("TerritoryFigure"),
                    "description": "Verified and pending claims per territory of the claimed members, as the "
                    "latest breakdown snapshot published them (noisy and suppressed by its rule).",
                },
                "quorum": {
                    **nullable(
                        obj(
                            {
                                "verified_required": nullable({"type": "integer", "minimum": 1}),
                                "territories_required": nullable({"type": "integer", "minimum": 1}),
                                "verified_count": {"type": "integer", "minimum": 0},
                                "territory_count": {
                                    "type": "integer",
                                    "minimum": 0,
                                    "description": "Territories with at least one verified signer.",
                                },
                                "met": {"type": "boolean"},
                            }
                        )
                    ),
                    "description": "The quorum the petition set itself, and its progress; null if none.",
                },
                "verified_signers": {
                    "type": "array",
                    "items": obj(
                        {
                            "name": text("The member's name as the registry publishes it."),
                            "office": text("Their office."),
                            "district": text("Their district (may be empty)."),
                            "territory": text("Their territory."),
                        }
                    ),
                    "description": "Verified signers who chose to be named.",
                },
                "group": {
                    **nullable(ref("Group")),
                    "description": "Safety in numbers: signers named only together, once enough of them are "
                    "verified (docs/threat-model.md). Null where the petition offers no group.",
                },
            }
        ),
        "Group": obj(
            {
                "verified_required": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "The group is named once at least this many of its members are verified…",
                },
                "territories_required": {
                    "type": "integer",
                    "minimum": 1,
                    "description": "… from at least this many territories (the petition's creator set both).",
                },
                "verified_count": {
                    **nullable({"type": "integer", "minimum": 0}),
                    "description": f"Members with a validated claim, rounded at random to a multiple of {k} "
                    f"as of the latest breakdown snapshot; null when fewer than {k} (or not published yet).",
                },
                "verified_count_fewer_than": {"type": "integer", "const": k},
                "territory_count": {
                    **nullable({"type": "integer", "minimum": 0}),
                    "description": "The territories those members come from, at most the number required; "
                    "null while verified_count is.",
                },
                "named_at": {
                    **nullable(ref("Timestamp")),
                    "description": "When the group was named: the breakdown snapshot that first named all its "
                    "members together; null until then.",
                },
                "never_named": {
                    "type": "boolean",
                    "description": "True once the petition stopped collecting signatures before the group was "
                    "named: it never will be.",
                },
                "members": {
                    "type": "array",
                    "items": obj(
                        {
                            "name": text("As the registry publishes it (verified) or as the signer gave it."),
                            "verified": {"type": "boolean"},
                            "office": nullable({"type": "string"}),
                            "district": nullable({"type": "string"}),
                            "territory": nullable({"type": "string"}),
                            "region": {
                                **nullable({"type": "string"}),
                                "description": "The region of a member who is not verified.",
                            },
                        }
                    ),
                    "description": "Once the group is named, every member, sorted by name; empty until then.",
                },
            },
            optional=("verified_count_fewer_than",),
        ),
        "TerritoryFigure": obj(
            {
                "name": text("Territory name."),
                "code": text("Territory code, as in the registry."),
                "verified_named_count": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Verified signers who chose to be named (listed by name).",
                },
                "verified_others_count": {
                    **nullable({"type": "integer", "minimum": 0}),
                    "description": f"Other verified signers; null when fewer than {k} (or hidden so that "
                    f"the hidden figures together hold at least {k}).",
                },
                "verified_others_count_fewer_than": {"type": "integer", "const": k},
                "pending_count": {
                    **nullable({"type": "integer", "minimum": 0}),
                    "description": f"Claims awaiting validation; null when fewer than {k}.",
                },
                "pending_count_fewer_than": {"type": "integer", "const": k},
            },
            optional=("verified_others_count_fewer_than", "pending_count_fewer_than"),
        ),
        "RegionFigure": obj(
            {
                "name": text("Region name."),
                "code": text("Region code (for the default list, the ONS ITL1 code)."),
                "ons_code": {
                    **nullable({"type": "string", "pattern": r"^[EKNSW]\d{8}$"}),
                    "description": "The code again where it is an ONS (GSS) code, as the UK site's clients "
                    'read it; null for other territories ("Outside the UK", non-UK sets).',
                },
                "signature_count": {
                    **nullable({"type": "integer", "minimum": k, "multipleOf": k}),
                    "description": f"Signatures from the region at the snapshot, randomly rounded to a "
                    f"multiple of {k} (unbiased: up with probability (count mod {k})/{k}); null when "
                    "suppressed.",
                },
                "suppressed": {
                    "type": "boolean",
                    "description": f"The region is not shown: it holds fewer than {k} signatures, or fewer "
                    f"than {2 * k - 1} and below this snapshot's random threshold, or it is hidden so that "
                    f"the hidden regions together hold at least {k}.",
                },
            }
        ),
        "Breakdown": obj(
            {
                "taken_at": {
                    **nullable(ref("Timestamp")),
                    "description": "When the snapshot behind signatures_by_region was taken; null before "
                    "the first. A snapshot is taken at most every "
                    f"{settings.BREAKDOWN_SNAPSHOT_MINUTES} minutes, and only once {k} signatures of "
                    "counted-only signers have arrived since the last one; the lists of named signers "
                    "move with it. Only signature_count is live.",
                },
                "rounded_to_multiple_of": {
                    "type": "integer",
                    "const": k,
                    "description": "k: shown figures are this multiple, rounded up or down at random.",
                },
            },
            description="How the per-region figures were published (docs/threat-model.md).",
        ),
        "PetitionLinks": PETITION_LINKS,
        "PetitionListAttributes": obj(ATTRIBUTES),
        "PetitionAttributes": obj(DETAIL_ATTRIBUTES),
        "PetitionSummary": obj(
            {
                "type": {"const": "petition"},
                "id": {"type": "integer", "minimum": 1},
                "links": ref("PetitionLinks"),
                "attributes": ref("PetitionListAttributes"),
            },
            description="A petition in a list: as on the UK site, no signatures_by_* and no "
            "other_parliamentary_business; nor our breakdown, verification and data lifecycle.",
        ),
        "Petition": obj(
            {
                "type": {"const": "petition"},
                "id": {"type": "integer", "minimum": 1},
                "links": ref("PetitionLinks"),
                "attributes": ref("PetitionAttributes"),
            }
        ),
        "PetitionDocument": obj({"links": obj({"self": url("This document.")}), "data": ref("Petition")}),
        "PetitionList": obj(
            {
                "links": obj(
                    {
                        "self": url("This page."),
                        "first": url("The first page."),
                        "last": url("The last page (the first when nothing matches)."),
                        "next": {**nullable({"type": "string", "format": "uri"}), "description": "Next page."},
                        "prev": {**nullable({"type": "string", "format": "uri"}), "description": "Previous page."},
                    }
                ),
                "meta": obj(
                    {
                        "total": {"type": "integer", "minimum": 0, "description": "Matching petitions."},
                        "page": {"type": "integer", "minimum": 1},
                        "per_page": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
                    }
                ),
                "data": {"type": "array", "items": ref("PetitionSummary"), "maxItems": MAX_PAGE_SIZE},
            }
        ),
        "Constituencies": {
            "type": "object",
            "maxProperties": 0,
            "description": "The UK site's constituencies keyed by ONS code, each {mp, party, constituency, "
            "ons_code, start_date, end_date}. Signers here give a region, never a constituency, and no "
            "territory set has constituencies: always the empty object.",
        },
        "Count": obj(
            {
                "id": {"type": "integer", "minimum": 1},
                "signature_count": {"type": "integer", "minimum": 0},
                "log": ref("CountedAt"),
                "updated_at": {**ref("Timestamp"), "description": "As in the petition's attributes."},
            }
        ),
        "SignatureHistory": obj(
            {
                "links": obj({"self": url("This document."), "petition": url("The petition as JSON.")}),
                "id": {"type": "integer", "minimum": 1, "description": "The petition's id."},
                "data": {
                    "type": "array",
                    "description": "The last 7 days, oldest first; hours without signatures are left out.",
                    "items": obj(
                        {
                            "hour": {**ref("Timestamp"), "description": "Start of the hour (UTC)."},
                            "signature_count": {
                                "type": "integer",
                                "description": "Signatures counted in that hour, net of any invalidated "
                                "then (so it may be negative).",
                            },
                        }
                    ),
                },
            }
        ),
    }


def _json(schema_name: str, description: str, *, etag: bool = True) -> Schema:
    headers = {
        "Cache-Control": {"$ref": "#/components/headers/CacheControl"},
        "Access-Control-Allow-Origin": {"$ref": "#/components/headers/AccessControlAllowOrigin"},
    }
    if etag:
        headers["ETag"] = {"$ref": "#/components/headers/ETag"}
        headers["Last-Modified"] = {"$ref": "#/components/headers/LastModified"}
    return {
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": ref(schema_name)}},
    }


ERROR = {"content": {"application/json": {"schema": ref("Error")}}}


def _errors(*statuses: int) -> dict[str, Schema]:
    text_of = {
        304: "Not modified: the If-None-Match validator still matches (or, without it, nothing changed "
        "since If-Modified-Since).",
        404: "No such public petition (unknown, or not yet published). Any other .json address that is not "
        "one answers 404 with this body too.",
        405: "Only GET and HEAD are allowed.",
    }
    return {
        str(s): ({"description": text_of[s]} if s == 304 else {"description": text_of[s], **ERROR}) for s in statuses
    }


def _operation(summary: str, operation_id: str, parameters: list[Schema], responses: dict[str, Schema]) -> Schema:
    return {"get": {"summary": summary, "operationId": operation_id, "parameters": parameters, "responses": responses}}


def openapi_document(*, site_url: str) -> Schema:
    """The OpenAPI document, its server the site's address it is asked at (``site_url``)."""
    list_params = [{"$ref": "#/components/parameters/state"}, {"$ref": "#/components/parameters/q"}]
    petition_id = [{"$ref": "#/components/parameters/petition_id"}]
    csv_description = (
        f"Every matching petition (not paged), columns {', '.join(CSV_COLUMNS)}; with columns=uk, the UK "
        f"site's: {', '.join(UK_CSV_COLUMNS)}. A cell that would start "
        "with = + - @ (or a tab or carriage return) gets a leading ' so spreadsheets do not run it. "
        "Hidden petitions have an empty action."
    )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{settings.SITE_NAME} open data",
            "version": "1.0.0",
            "description": (
                "Public petitions, their counts and hourly signature history, in the shape of the UK "
                "Parliament petitions site's JSON (every key its clients read, null or empty where there "
                "is no such thing here). Read-only: every endpoint answers GET and HEAD, "
                "and 405 to anything else; every answer has Access-Control-Allow-Origin: *. Lenient like "
                "the UK site: list parameters that make no sense fall back to their defaults. "
                "Successful answers are cacheable "
                "(Cache-Control: public, max-age, stale-while-revalidate); errors are never cached. "
                "No answer holds a signer's e-mail address or the name of a signer who did not choose "
                "to show it."
            ),
            "license": {"name": "Open data", "identifier": "CC0-1.0"},
        },
        "servers": [{"url": site_url}],
        "paths": {
            "/petitions.json": _operation(
                "List public petitions",
                "listPetitions",
                [*list_params, {"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/count"}],
                {
                    "200": _json("PetitionList", f"A page of up to count (default {PAGE_SIZE}) petitions.", etag=False),
                    **_errors(405),
                },
            ),
            "/petitions.csv": _operation(
                "All matching public petitions as CSV",
                "listPetitionsCsv",
                [*list_params, {"$ref": "#/components/parameters/page"}, {"$ref": "#/components/parameters/columns"}],
                {
                    "200": {"description": csv_description, "content": {"text/csv": {"schema": {"type": "string"}}}},
                    **_errors(405),
                },
            ),
            "/petitions/{petition_id}.json": _operation(
                "One petition",
                "getPetition",
                petition_id,
                {"200": _json("PetitionDocument", "The petition."), **_errors(304, 404, 405)},
            ),
            "/petitions/{petition_id}/count.json": _operation(
                "A petition's signature count, for polling",
                "getPetitionCount",
                petition_id,
                {"200": _json("Count", "The count."), **_errors(304, 404, 405)},
            ),
            "/petitions/{petition_id}/history.json": _operation(
                "A petition's hourly signature history",
                "getPetitionHistory",
                petition_id,
                {"200": _json("SignatureHistory", "The history."), **_errors(304, 404, 405)},
            ),
            "/constituencies.json": _operation(
                "Parliamentary constituencies, keyed by ONS code (the UK site's document)",
                "getConstituencies",
                [],
                {
                    "200": _json("Constituencies", "Always the empty object here.", etag=False),
                    **_errors(405),
                },
            ),
            "/api/openapi.json": _operation(
                "This document",
                "getOpenApi",
                [],
                {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_errors(405),
                },
            ),
            "/{language}/api/": _operation(
                "Documentation for people, in each of the site's languages",
                "getDocs",
                [
                    {
                        "name": "language",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "enum": [code for code, _name in settings.LANGUAGES]},
                    }
                ],
                {
                    "200": {"description": "An HTML page", "content": {"text/html": {"schema": {"type": "string"}}}},
                    **_errors(405),
                },
            ),
        },
        "components": {
            "schemas": schemas(),
            "parameters": {
                "state": {
                    "name": "state",
                    "in": "query",
                    "description": "Which petitions: all (open, closed, rejected; not hidden), open, closed, "
                    "rejected (hidden included), awaiting_response, with_response. Any other value: all.",
                    "schema": {"type": "string", "enum": list(LIST_FILTERS), "default": "all"},
                },
                "q": {
                    "name": "q",
                    "in": "query",
                    "description": "Search words (action, background and details). Hidden petitions never match. "
                    f"Longer ones are cut to {MAX_QUERY_LENGTH} characters; NUL bytes are dropped.",
                    "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH},
                },
                "page": {
                    "name": "page",
                    "in": "query",
                    "description": "Page number; a page past the last gives an empty data list; anything but a "
                    "whole number from 1 to 100000 gives page 1. The CSV ignores it.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100_000, "default": 1},
                },
                "count": {
                    "name": "count",
                    "in": "query",
                    "description": f"Petitions per page, 1 to {MAX_PAGE_SIZE}; anything else gives {PAGE_SIZE}.",
                    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": PAGE_SIZE},
                },
                "columns": {
                    "name": "columns",
                    "in": "query",
                    "description": f"uk: the UK site's columns ({', '.join(UK_CSV_COLUMNS)}); anything else: ours.",
                    "schema": {"type": "string", "enum": ["uk"]},
                },
                "petition_id": {
                    "name": "petition_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                },
            },
            "headers": {
                "ETag": {
                    "description": "Weak validator; send it back in If-None-Match to get a 304.",
                    "schema": {"type": "string"},
                },
                "LastModified": {
                    "description": "When the document last changed, to the second; send it back in "
                    "If-Modified-Since to get a 304 (If-None-Match, when sent, wins).",
                    "schema": {"type": "string"},
                },
                "AccessControlAllowOrigin": {
                    "description": "Always *: the data is public and no credential is involved.",
                    "schema": {"type": "string", "const": "*"},
                },
                "CacheControl": {
                    "description": "public, max-age=<count interval>, stale-while-revalidate=<seconds>",
                    "schema": {"type": "string"},
                },
            },
        },
    }
