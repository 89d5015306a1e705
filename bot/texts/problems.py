"""Renders storage's reason codes as courteous sentences in the user's language."""

from __future__ import annotations

from bot.i18n import N_, _, fmt_number
from bot.texts.roles import role_name

# Each text says what happened and what to do next.
TEXTS: dict[str, str] = {
    # one row of an imported file
    "tax_code_empty": N_("The tax code is missing. Enter the enterprise's 10-digit tax code."),
    "tax_code_personal_id": N_(
        "“%(value)s” has 12 digits: it is a personal ID number, not an enterprise tax code."
        " Enter the enterprise's 10-digit tax code."
    ),
    "tax_code_checksum": N_(
        "The tax code “%(value)s” fails its check digit. Please check it against the"
        " business registration certificate."
    ),
    "tax_code_length": N_(
        "The tax code “%(value)s” has the wrong length. An enterprise has 10 digits,"
        " a branch 10 digits, a dash and 3 digits."
    ),
    "tax_code_format": N_(
        "The tax code “%(value)s” may contain only digits and one dash. Please correct it."
    ),
    "tax_code_zero_restored": N_(
        "The spreadsheet had dropped the leading 0 of the tax code; it was read as %(value)s."
    ),
    "name_empty": N_("The enterprise name is missing. Enter its name as registered."),
    "name_no_letters": N_(
        "The name “%(value)s” has no letters. Enter the enterprise's name as registered."
    ),
    "zone_unknown": N_(
        "The industrial zone “%(zone)s” is not in the list. Add it with “thidua zones add”"
        " or import again with --create-zones."
    ),
    "zone_created": N_("The industrial zone “%(zone)s” was added to the list."),
    "members_invalid": N_(
        "“%(value)s” is not a number of people: write a whole number from 1, or leave it empty."
    ),
    "collective_ldtt_share_more": N_(
        "%(name)s: %(holders)s of its %(members)s members are registered Lao động tiên tiến"
        " (or better); the title needs more than %(percent)s%%."
    ),
    "collective_ldtt_share": N_(
        "%(name)s: %(holders)s of its %(members)s members are registered Lao động tiên tiến"
        " (or better); the title needs at least %(percent)s%%."
    ),
    "category_unknown": N_(
        "“%(value)s” is not a category: write Doanh nhân, Cán bộ quản lý or Người lao động trực"
        " tiếp, or leave it empty."
    ),
    "gender_unknown": N_("“%(value)s” is not a gender: write Nữ or Nam, or leave it empty."),
    "results_other_year": N_(
        "This file holds the results of %(year)s, and the campaign now open is %(campaign)s's."
        " Record it with “thidua results import FILE --year %(year)s”, or send the %(campaign)s"
        " file."
    ),
    "result_duplicate": N_(
        "The same proposal already appears in row %(first_row)s; this row was skipped."
    ),
    "result_enterprise_unknown": N_(
        "The enterprise with tax code %(value)s has no submitted registration this year."
        " Check the tax code against the exported file."
    ),
    "result_title_unknown": N_(
        "“%(value)s” is not a title or form of commendation of this campaign. Use the names"
        " of the exported file."
    ),
    "result_not_proposed": N_(
        "“%(name)s” was not proposed for this title by this enterprise. Check the name and"
        " the proposal against the exported file."
    ),
    "result_namesakes": N_(
        "The enterprise proposed several people named “%(name)s”: fill in the post as in the"
        " exported file so the right one is recorded."
    ),
    "result_decided_elsewhere": N_(
        "“%(name)s”: this title or form is decided above the enterprise, so its result comes"
        " from the board; only the titles your director confers are recorded here."
    ),
    "result_unclear": N_(
        "“%(value)s” is not a result: write Có (recognised) or Không (not recognised), or"
        " leave it empty if there is no decision yet."
    ),
    "result_conferrer_unknown": N_(
        "“%(value)s” is not a level that decides: write one of %(choices)s."
    ),
    "result_day_unclear": N_(
        "“%(value)s” is not a date: write the decision's date as day/month/year, e.g. 20/12/2026."
    ),
    "duplicate_row": N_(
        "This tax code already appears in row %(first_row)s; this row was skipped."
        " Keep one row per enterprise."
    ),
    "phone_invalid": N_("The phone number “%(value)s” is not valid. Please check it."),
    "phone_ignored": N_(
        "The phone number “%(value)s” is not valid and was not saved. Correct it and import again."
    ),
    "contact_without_name": N_(
        "A phone or e-mail was given without the contact's name, so no contact was saved."
    ),
    # a whole file
    "file_missing": N_("The file %(path)s cannot be found. Check the path and try again."),
    "file_empty": N_("The file is empty. Please send the filled-in spreadsheet."),
    "file_too_large": N_(
        "The file is %(size_mb)s MB, over the %(limit_mb)s MB limit. Remove unused sheets or"
        " split the list, then send it again."
    ),
    "file_encrypted": N_(
        "The workbook is password-protected, so it cannot be read. Remove the password in"
        " Excel (File › Info › Protect Workbook) and send it again."
    ),
    "file_legacy_xls": N_(
        "This is an old Excel 97–2003 (.xls) file. Please save it as .xlsx and send it again."
    ),
    "file_corrupt": N_(
        "The workbook is damaged and cannot be opened. Open it in Excel, save it again as"
        " .xlsx and send it again."
    ),
    "file_not_table": N_(
        "This file is not a spreadsheet. Please send an Excel (.xlsx) or CSV file."
    ),
    "file_too_many_rows": N_(
        "The file has more than %(limit)s rows. Please split it into smaller files."
    ),
    "sheet_too_many_rows": N_(
        "Sheet “%(sheet)s” has more than %(limit)s rows, blank rows included. Delete the empty"
        " rows below the list, or split it into smaller files, then send it again."
    ),
    "sheet_too_many_columns": N_(
        "Sheet “%(sheet)s” has data beyond column %(column)s (row %(row)s). Delete the unused"
        " columns and send the file again."
    ),
    "cell_too_long": N_(
        "A cell in sheet “%(sheet)s”, row %(row)s, holds more than %(limit)s characters."
        " Shorten it and send the file again."
    ),
    "file_too_many_cells": N_(
        "The file holds more than %(limit)s filled cells, more than such a list needs. Remove"
        " unused sheets or split the list, then send it again."
    ),
    "file_too_slow": N_(
        "Reading the file took more than %(seconds)s seconds, so it was stopped. Remove unused"
        " sheets, columns and formatting, or split the list, then send it again."
    ),
    "workbook_unpacks_too_large": N_(
        "Unpacked, the workbook is larger than %(limit_mb)s MB, far more than such a list"
        " needs. Remove pictures, unused sheets and formatting, or save it as CSV, then send"
        " it again."
    ),
    "workbook_too_many_parts": N_(
        "The workbook is made of more than %(limit)s parts, far more than such a list needs."
        " Copy the list into a new workbook and send that one."
    ),
    # backups
    "backup_unsupported_database": N_("Backups are made of SQLite and PostgreSQL, not %(kind)s."),
    "backup_unreadable": N_(
        "%(path)s is not a whole thidua-bot backup (damaged, or another kind of file). Choose"
        " another archive."
    ),
    "restore_other_database": N_(
        "This archive holds a %(archive)s database, but this deployment uses %(here)s. Restore"
        " it onto a deployment of the same kind."
    ),
    "restore_not_empty": N_(
        "This deployment already holds data (enterprises, contacts, campaigns or documents)."
        " A backup is restored onto an empty one only: point THIDUA_DATABASE_URL and"
        " THIDUA_DATA_DIR at new ones, then restore."
    ),
    "backup_needs_pg_tools": N_(
        "%(program)s is not installed here. Install the PostgreSQL client programs (Debian:"
        " apt install postgresql-client), or run %(program)s yourself on %(url)s."
    ),
    "backup_tool_failed": N_("%(program)s failed: %(error)s"),
    "file_no_header": N_(
        "No header row with “Tên doanh nghiệp” and “Mã số thuế” was found in the first"
        " %(scanned)s rows. Add these column headings and send the file again."
    ),
    # registry commands
    "zone_name_empty": N_("The zone name is empty. Please give a name."),
    "enterprise_unknown": N_(
        "No enterprise with tax code %(tax_code)s is registered. Check the code or import"
        " the enterprise first."
    ),
    "enterprise_exists": N_("An enterprise with tax code %(tax_code)s is already registered."),
    "enterprise_name_empty": N_("The enterprise name is empty. Please give its name."),
    "contact_name_empty": N_("The contact's name is empty. Please give a full name."),
    "contact_unknown": N_("There is no contact #%(id)s. See them with: thidua contacts list"),
    "invite_role_mismatch": N_(
        "Contact #%(id)s is a %(role)s; an invitation for them links that role. Leave out"
        " --role, or change their role first with: thidua contacts set-role"
    ),
    "contact_needs_enterprise": N_(
        "An enterprise contact must belong to an enterprise. Give --enterprise with its tax code."
    ),
    "campaign_year_invalid": N_("%(year)s is not a valid campaign year."),
    "campaign_exists": N_(
        "The %(year)s campaign already exists. Use “thidua campaign show %(year)s” to see it."
    ),
    "campaign_missing": N_(
        "No campaign has been created yet. Create one with “thidua campaign create YEAR”."
    ),
    "campaign_year_missing": N_("There is no campaign for %(year)s. The campaigns are: %(years)s."),
    "deadline_far": N_(
        "That day is too far from the %(year)s campaign: a deadline's last day must lie between"
        " %(first)s and %(last)s. Please check the year."
    ),
    "milestones_out_of_order": N_(
        "The deadlines must come in order: registration, mid-year review, then year-end report."
    ),
    "invite_needs_enterprise": N_(
        "An invitation for an enterprise contact needs --enterprise with its tax code."
    ),
    "invite_validity_invalid": N_("An invitation must be valid for at least one day."),
    # registration rows
    "nominee_name_empty": N_(
        "The name is missing (an empty cell, or a formula whose value was not saved). Please"
        " type the full name itself."
    ),
    "nominee_name_formula": N_(
        "“%(value)s” looks like a spreadsheet formula, not a name. Please type the full name."
    ),
    "nominee_name_symbols": N_(
        "“%(value)s” holds characters a name cannot have (%(symbols)s). Please type the name"
        " with letters only."
    ),
    "title_missing": N_(
        "The emulation title is missing. Please choose one from the form's drop-down list."
    ),
    "nominee_name_no_letters": N_(
        "“%(value)s” is not a name: it has no letters. Please type the full name."
    ),
    "nominee_name_too_long": N_("The name is longer than %(limit)s characters. Please shorten it."),
    "nominee_basis_too_long": N_(
        "The basis of the proposal is longer than %(limit)s characters. Please shorten it."
    ),
    "nominee_position_too_long": N_(
        "The position is longer than %(limit)s characters. Please shorten it."
    ),
    "nominee_initiative_too_long": N_(
        "The initiative's title is longer than %(limit)s characters. Please shorten it."
    ),
    "title_unknown": N_(
        "“%(value)s” is not a title of this year's list. Please choose one from the form's"
        " drop-down list."
    ),
    "title_wrong_subject": N_(
        "“%(title)s” is for %(fits)s, not for %(this)s. Please choose another, or put the row"
        " in the other table."
    ),
    "award_level_unclear": N_(
        "“%(value)s” does not say whose commendation it is. Please write it in full, for example"
        " “Bằng khen của Chủ tịch Ủy ban nhân dân tỉnh”, or choose it from the drop-down list."
    ),
    "award_unknown": N_(
        "“%(value)s” is not a form of commendation of this year's list. Please choose one from"
        " the drop-down list, or leave it empty."
    ),
    "form_no_header": N_(
        "No table with the columns “Họ và tên” (or “Tên tập thể”) and “Danh hiệu thi đua” was"
        " found. Please use the form sent by the bot."
    ),
    "too_many_nominees": N_(
        "A registration can hold at most %(limit)s rows. Please contact the board."
    ),
    "registration_not_draft": N_(
        "This registration has already been submitted. Open it again from the menu to change it."
    ),
    "registration_already_submitted": N_(
        "This registration was already submitted (version %(version)s). Open it again from the"
        " menu to see it or change it."
    ),
    "registration_unchanged": N_(
        "Nothing has changed since %(reference)s, so there is nothing new to submit."
    ),
    "registration_empty": N_("The registration is empty. Please add at least one row."),
    "registration_busy": N_("Many registrations are arriving at once. Please try again."),
    # reports
    "report_incomplete": N_(
        "The report is not complete yet. Please give every figure and the signed report."
    ),
    "report_inconsistent": N_(
        "Some figures contradict each other, so the report cannot be submitted yet. The review"
        " says which to fix."
    ),
    "document_empty": N_("The file is empty (0 bytes). Please send the signed report again."),
    "document_type": N_(
        "This file is not a PDF, DOC or DOCX document, whatever its name says. Please send the"
        " signed report as PDF, DOC or DOCX."
    ),
    "document_too_large": N_(
        "The file is %(size_mb)s MB; a bot can receive at most %(limit_mb)s MB. Please send a"
        " smaller PDF (scan at 150 dpi), or send the file to the board by e-mail and the"
        " figures here."
    ),
    "figure_not_number": N_(
        "“%(value)s” is not an amount. Type it as you would write it, for example"
        " 1.250.000.000, 1,25 tỷ, 2 tỷ 300 triệu or 12tr5."
    ),
    "figure_not_count": N_(
        "“%(value)s” is not a number of people or cases. Type a whole number, for example 1250,"
        " 1.250 or 1.250 người."
    ),
    "figure_awards_over_workers": N_(
        "%(awarded)s Lao động tiên tiến and Chiến sĩ thi đua cơ sở awarded is more than the"
        " %(total)s workers. Please check these figures."
    ),
    "figure_wages_over_revenue": N_(
        "The average income × workers × 12 months (%(wages)s đ) is more than the revenue"
        " (%(revenue)s đ). Please check the income (per worker per month) and the revenue."
    ),
    "figure_value_without_initiatives": N_(
        "The initiatives brought a value, but the number of initiatives is 0. Please check."
    ),
    "figure_negative": N_("This figure cannot be negative. Please check it."),
    "figure_too_large": N_(
        "This figure is larger than %(maximum)s, which cannot be right. Please check the zeros."
    ),
    "figure_not_whole": N_("Please type a whole number."),
    "figure_female_over_total": N_(
        "There cannot be more women than workers (%(total)s). Please check both figures."
    ),
    "figure_choice": N_("Please choose one of the options."),
    "figure_text_too_long": N_("The text is longer than %(limit)s characters. Please shorten it."),
    # rule warnings
    "duplicate_name": N_("“%(name)s” appears twice (also as “%(first)s”). Is it the same one?"),
    "cstdcs_needs_initiative": N_(
        "%(n)s CSTĐCS candidates have no initiative: %(names)s. An accepted initiative or an"
        " accepted research project is required for this title."
    ),
    "cstdcs_basis": N_(
        "%(n)s CSTĐCS candidates have no initiative: %(names)s. They will need an accepted"
        " initiative, an outstanding result or a research project."
    ),
    "cstdcs_ratio": N_(
        "%(n)s CSTĐCS out of %(holders)s Lao động tiên tiến is more than %(percent)s%%."
    ),
    "cstd_tinh_history": N_(
        "%(name)s: Chiến sĩ thi đua cấp tỉnh needs three consecutive years as Chiến sĩ thi đua"
        " cơ sở; the records show it in %(years)s, not in both %(needed)s."
    ),
    "cstd_tinh_history_none": N_(
        "%(name)s: Chiến sĩ thi đua cấp tỉnh needs three consecutive years as Chiến sĩ thi đua"
        " cơ sở; the records show none in %(needed)s."
    ),
    "bk_tinh_history": N_(
        "%(name)s: the records show no Chiến sĩ thi đua cơ sở in %(needed)s. If the Bằng khen"
        " is proposed on another basis, disregard this note."
    ),
    "history_ambiguous": N_(
        "%(name)s: the records hold awards of several people of this name (different posts);"
        " check by hand which of them this is, or write the post as it was written then."
    ),
    "history_not_recorded": N_(
        "%(name)s: %(title)s needs the results of %(years)s, and none are on record; check"
        " those years by hand."
    ),
    "ttldtt_for_units": N_(
        "%(names)s: Tập thể lao động tiên tiến is for the enterprise's units (a workshop, a"
        " department), not the company itself; the company may be proposed for Tập thể lao"
        " động xuất sắc."
    ),
    "co_tinh_cluster": N_(
        "%(names)s: the Cờ thi đua goes only to the leading unit of a cụm or khối thi đua;"
        " tell the board which cluster it leads."
    ),
    "ttldxs_needs_cstdcs": N_(
        "%(names)s: a Tập thể lao động xuất sắc needs at least one Chiến sĩ thi đua cơ sở, and"
        " none is registered."
    ),
}


def render(code: str, params: dict[str, object] | None = None) -> str:
    """The user's-language sentence for a reason code, with its parameters filled in."""
    params = dict(params or {})
    if code in ("file_too_large", "document_too_large"):
        for key in ("size", "limit"):
            params[f"{key}_mb"] = fmt_number(round(int(str(params[key])) / 1_048_576, 1))
    elif code == "title_wrong_subject":
        person = params.get("kind") == "individual"
        params["fits"] = _("collectives") if person else _("individuals")
        params["this"] = _("a person") if person else _("a collective")
    elif code == "invite_role_mismatch":
        params["role"] = role_name(str(params["role"]))
    elif code == "workbook_unpacks_too_large":
        params["limit_mb"] = fmt_number(round(int(str(params["limit"])) / 1_048_576))
    elif isinstance(params.get("maximum"), int):
        params["maximum"] = fmt_number(int(str(params["maximum"])))
    elif isinstance(params.get("limit"), int):
        params["limit"] = fmt_number(int(str(params["limit"])))
    for key in ("total", "awarded", "wages", "revenue"):
        if isinstance(params.get(key), int):
            params[key] = fmt_number(int(str(params[key])))
    template = TEXTS.get(code)
    if template is None:
        return _("Something went wrong (%(code)s). Please try again or contact the board.") % {
            "code": code
        }
    return _(template) % params
