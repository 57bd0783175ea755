"""The one catalogue of messages a partner or administrator reads: each message is a key with
named parameters, and its Dutch and English text is rendered only where a report or response is
built. Parameters are column names, limits, counts, policy numbers and codes: never a personal
value from a row (a name, a BSN, an address), so a report can be shared without leaking one.
A leaf module: it imports nothing of the application, so every layer may use it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

Language = Literal["nl", "en"]

CATALOGUE: Final[dict[str, tuple[str, str]]] = {
    # --- a row's fields (rules/rows.py)
    "required": ("Verplicht veld {column} is leeg.", "Required field {column} is empty."),
    "invalid_policy_number": (
        "Polisnummer in {column} is ongeldig (1-30 tekens: letters, cijfers, . - /).",
        "Policy number in {column} is invalid (1-30 characters: letters, digits, . - /).",
    ),
    "invalid_branch": (
        "Branchecode in {column} is geen ADN-branchecode (3 cijfers).",
        "Branch code in {column} is not an ADN branch code (3 digits).",
    ),
    "branch_not_in_scope": (
        "Branche {value} is geen rechtsbijstand (090, 091, 092, 093, 990); rij niet opgeslagen.",
        "Branch {value} is not legal expenses (090, 091, 092, 093, 990); row not stored.",
    ),
    "invalid_date": (
        "Datum in {column} is ongeldig (verwacht JJJJMMDD of JJJJ-MM-DD).",
        "Date in {column} is invalid (expected YYYYMMDD or YYYY-MM-DD).",
    ),
    "end_before_start": (
        "Einddatum {column} ligt voor de ingangsdatum PP_INGDAT.",
        "End date {column} is before the start date PP_INGDAT.",
    ),
    "invalid_modules": (
        "Dekking in {column} bevat een onbekende module (toegestaan: RP, VK, WC, IN, FV).",
        "Coverage in {column} has an unknown module (allowed: RP, VK, WC, IN, FV).",
    ),
    "invalid_processing_code": (
        "Verwerkingscode in {column} is ongeldig (toegestaan: 0, 1, 2, 4).",
        "Processing code in {column} is invalid (allowed: 0, 1, 2, 4).",
    ),
    "invalid_deductible": (
        "Eigen risico in {column} is geen bedrag van 0 of meer.",
        "Deductible in {column} is not an amount of 0 or more.",
    ),
    "ambiguous_deductible": (
        "Eigen risico in {column} is dubbelzinnig: een punt of komma voor precies drie cijfers "
        "(1.250) kan 1250 of 1,25 betekenen. Schrijf 1250, 1250,00 of 1.250,00.",
        "Deductible in {column} is ambiguous: a point or comma before exactly three digits "
        "(1.250) may mean 1250 or 1.25. Write 1250, 1250.00 or 1,250.00.",
    ),
    "invalid_household": (
        "Gezinssamenstelling in {column} is ongeldig (toegestaan: A, H, I, K).",
        "Household composition in {column} is invalid (allowed: A, H, I, K).",
    ),
    "invalid_role": (
        "Rol in {column} is ongeldig of in strijd met het kolomvoorvoegsel "
        "(toegestaan: VP, SP, KN, VZ).",
        "Role in {column} is invalid or contradicts the column prefix (allowed: VP, SP, KN, VZ).",
    ),
    "multiple_parties": (
        "Rij bevat gegevens voor meer dan een partij ({column}); lever een partij per rij.",
        "Row holds data for more than one party ({column}); deliver one party per row.",
    ),
    "invalid_gender": (
        "Geslacht in {column} is ongeldig (toegestaan: M, V, X, R).",
        "Gender in {column} is invalid (allowed: M, V, X, R).",
    ),
    "invalid_name": (
        "Naam in {column} bevat geen letters of cijfers.",
        "Name in {column} has no letters or digits.",
    ),
    "birth_date_in_future": (
        "Geboortedatum in {column} ligt in de toekomst.",
        "Birth date in {column} is in the future.",
    ),
    "invalid_house_number": (
        "Huisnummer in {column} begint niet met een nummer (max. 5 cijfers).",
        "House number in {column} does not start with a number (max. 5 digits).",
    ),
    "invalid_country": (
        "Landcode in {column} is geen ISO-landcode van 2 letters.",
        "Country in {column} is not a 2-letter ISO country code.",
    ),
    "invalid_postcode": (
        "Postcode in {column} is geen geldige Nederlandse postcode (1234 AB).",
        "Postcode in {column} is not a valid Dutch postcode (1234 AB).",
    ),
    "invalid_email": (
        "E-mailadres in {column} is ongeldig.",
        "E-mail address in {column} is invalid.",
    ),
    "invalid_phone": (
        "Telefoonnummer in {column} is ongeldig.",
        "Phone number in {column} is invalid.",
    ),
    "invalid_kvk": (
        "KvK-nummer in {column} is geen 8 cijfers.",
        "Chamber of Commerce number in {column} is not 8 digits.",
    ),
    "value_too_long": (
        "Waarde in {column} is te lang (max. {value} tekens).",
        "Value in {column} is too long (max. {value} characters).",
    ),
    # --- reading the file (services/reader.py)
    "unsupported_file_type": (
        "Bestandstype niet ondersteund: lever .csv, .jsonl, .csv.gz of .jsonl.gz.",
        "Unsupported file type: deliver .csv, .jsonl, .csv.gz or .jsonl.gz.",
    ),
    "too_large_uncompressed": (
        "Bestand is uitgepakt groter dan toegestaan.",
        "The file is larger than allowed when decompressed.",
    ),
    "invalid_gzip": (
        "Bestand is geen geldig gzip-bestand of is afgebroken.",
        "The file is not valid gzip or is truncated.",
    ),
    "line_too_long": (
        "Regel is langer dan toegestaan.",
        "Line is longer than allowed.",
    ),
    "not_a_text_file": (
        "Bestand is geen tekstbestand (bevat binaire gegevens).",
        "The file is not a text file (it contains binary data).",
    ),
    "empty_file": ("Bestand is leeg.", "The file is empty."),
    "unsupported_encoding": (
        "Tekenset niet ondersteund: lever UTF-8 of Windows-1252.",
        "Unsupported encoding: deliver UTF-8 or Windows-1252.",
    ),
    "undecodable": (
        "Kopregel kan niet worden gelezen in UTF-8 of Windows-1252.",
        "The header line cannot be read as UTF-8 or Windows-1252.",
    ),
    "invalid_json": (
        "Regel is geen JSON-object.",
        "Line is not a JSON object.",
    ),
    "invalid_encoding": (
        "Regel bevat tekens die niet in UTF-8 of Windows-1252 te lezen zijn (of een NUL-teken).",
        "Line has characters that cannot be read as UTF-8 or Windows-1252 (or a NUL byte).",
    ),
    "invalid_csv": (
        "Regel is geen geldige CSV.",
        "Line is not valid CSV.",
    ),
    "too_many_fields": (
        "Regel heeft meer velden dan de kopregel (scheidingsteken in een waarde zonder "
        "aanhalingstekens?).",
        "Line has more fields than the header (a delimiter inside an unquoted value?).",
    ),
    "invalid_line": ("Regel kan niet worden gelezen.", "Line cannot be read."),
    # --- the delivery (codes in the report; a key differs from its code where one code has
    # two texts: the reader's empty file and the ingest's file without rows)
    "invalid_object_key": (
        "Het bestand staat niet op incoming/<partner>/<full|mutation|check>/<naam>.",
        "The file is not at incoming/<partner>/<full|mutation|check>/<name>.",
    ),
    "unknown_partner": (
        "Partner '{partner}' is niet bekend in deze omgeving.",
        "Partner '{partner}' is not configured in this stage.",
    ),
    "unknown_delivery_kind": (
        "Het leveringstype moet 'full', 'mutation' of 'check' zijn.",
        "The delivery kind must be 'full', 'mutation' or 'check'.",
    ),
    "object_missing": ("Het bestand bestaat niet meer.", "The file is gone."),
    "object_replaced": (
        "Het bestand is vervangen door een nieuwe upload met dezelfde naam voordat het helemaal "
        "gelezen was; de nieuwe upload wordt als eigen levering verwerkt.",
        "The file was replaced by a new upload under the same name before it was read to the "
        "end; the new upload is processed as a delivery of its own.",
    ),
    "missing_columns": (
        "Verplichte kolommen ontbreken: {columns}.",
        "Required columns are missing: {columns}.",
    ),
    "no_rows": ("Het bestand bevat geen regels.", "The file contains no rows."),
    "no_valid_rows": (
        "Geen enkele regel van het bestand is verwerkt; zie de fouten per regel.",
        "No row of the file was stored; see the errors per row.",
    ),
    "storage_refused": (
        "De database weigert de levering; niets verder verwerkt. Meld dit bij beheer.",
        "The database refuses the delivery; nothing further processed. Tell support.",
    ),
    "arrived_too_late": (
        "De melding van deze levering kwam pas binnen nadat tientallen nieuwere leveringen al "
        "verwerkt waren; ze is niet toegepast. Lever wat nog klopt opnieuw aan.",
        "This delivery was notified only after dozens of newer deliveries had been applied; "
        "it was not applied. Deliver again what still holds.",
    ),
    # --- a policy's rows
    "too_many_parties": (
        "Polis {policy} heeft meer dan {limit} regels.",
        "Policy {policy} has more than {limit} rows.",
    ),
    "duplicate_party": (
        "Polis {policy} bevat twee regels voor dezelfde persoon.",
        "Policy {policy} has two rows for the same person.",
    ),
    "policy_rows_disagree": (
        "Polis {policy} is niet verwerkt: de regels ervan geven verschillende waarden voor "
        "{columns}; elke regel van een polis herhaalt dezelfde polisgegevens of laat ze leeg.",
        "Policy {policy} was not applied: its rows give different values for {columns}; every "
        "row of a policy repeats the same policy columns or leaves them empty.",
    ),
    "policy_needs_one_policyholder": (
        "Polis {policy} moet precies één verzekeringnemer (VP) hebben.",
        "Policy {policy} must have exactly one policyholder (VP).",
    ),
    "policy_has_rejected_rows": (
        "Polis {policy} is niet verwerkt: een andere regel is afgekeurd.",
        "Policy {policy} was not applied: another row was rejected.",
    ),
    "policy_rows_not_adjacent": (
        "Polis {policy} kwam al eerder in dit bestand voor; de regels van "
        "een polis moeten aaneensluiten.",
        "Policy {policy} appeared earlier in this file; the rows of a policy must be adjacent.",
    ),
    "policy_storage_refused": (
        "Polis {policy} is niet opgeslagen: de database weigert een "
        "waarde ervan (te lang of ongeldig).",
        "Policy {policy} was not stored: the database refuses one of "
        "its values (too long or invalid).",
    ),
    # --- warnings
    "unreadable_not_reconciled": (
        "Geen polissen beëindigd: {count} regel(s) van het bestand konden niet gelezen worden, "
        "dus welke polissen het bestand mist is niet te weten.",
        "No policies ended: {count} line(s) of the file could not be read, so which policies "
        "the file lacks cannot be known.",
    ),
    "unknown_policy_not_reconciled": (
        "Geen polissen beëindigd: {count} regel(s) zonder bruikbaar polisnummer, dus welke "
        "polissen het bestand mist is niet te weten.",
        "No policies ended: {count} row(s) with no usable policy number, so which policies the "
        "file lacks cannot be known.",
    ),
    "incomplete_not_reconciled": (
        "Geen polissen beëindigd: de levering is onvolledig.",
        "No policies ended: the delivery is incomplete.",
    ),
    "bsn_column": (
        "Het bestand bevat een BSN-kolom; BSN's worden niet opgeslagen.",
        "The file has a BSN column; BSNs are never stored.",
    ),
    "unknown_columns": (
        "Deze kolommen kent het bestandscontract niet; ze zijn niet gelezen: {columns}.",
        "These columns are not in the file contract and were not read: {columns}.",
    ),
    "unknown_columns_unnamed": (
        "Het bestand heeft kolommen die het bestandscontract niet kent; ze zijn niet gelezen.",
        "The file has columns that are not in the file contract; they were not read.",
    ),
    "duplicate_columns": (
        "Deze kolommen staan twee keer in de kop: {columns}; van elk telt alleen de eerste.",
        "These columns appear twice in the header: {columns}; only the first of each is read.",
    ),
    "bsn_dropped": (
        "{count} BSN-waarden genegeerd en niet opgeslagen.",
        "{count} BSN values dropped and not stored.",
    ),
    "removals_held": (
        "{missing} van {base} actieve polissen ontbreken ({share}%): niets beëindigd "
        "tot een beheerder de levering bevestigt.",
        "{missing} of {base} active policies are missing ({share}%): nothing ended until an "
        "administrator confirms.",
    ),
    "rejected_rows_incomplete": (
        "Niet elke afgekeurde regel staat in het regelbestand (een deel verliep voordat de "
        "levering klaar was); de tellingen in dit rapport zijn volledig.",
        "Not every rejected row is in the rejected-rows file (part of it expired before the "
        "delivery ended); the counts in this report are complete.",
    ),
    "removals_confirmed": (
        "Bevestigd door een beheerder op {at}: de ontbrekende polissen worden beëindigd.",
        "Confirmed by an administrator at {at}: the missing policies are ended.",
    ),
}

# How the previous version marked the held-removals warning inside its stored "nl / en" text;
# only read to recognise records checkpointed by that version.
LEGACY_HELD_MARK: Final = "nothing ended until an administrator confirms"


def render(key: str, params: Mapping[str, object], language: Language) -> str:
    nl, en = CATALOGUE[key]
    template = nl if language == "nl" else en
    return template.format_map(params) if params else template


def bilingual(key: str, params: Mapping[str, object]) -> str:
    """A warning as the report has always shown it: the Dutch text, then the English."""
    return f"{render(key, params, 'nl')} / {render(key, params, 'en')}"


class _Elided(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "…"


def describe(code: str, language: Language) -> str:
    """What an error code means in general, without the parameters of one occurrence (an
    ellipsis stands in for each): for summaries such as a scorecard or an e-mail to a partner."""
    nl, en = CATALOGUE.get(code, (code, code))
    return (nl if language == "nl" else en).format_map(_Elided())
