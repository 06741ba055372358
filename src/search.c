/*-------------------------------------------------------------------------
 *
 * search.c
 *	  Keyword search documents and queries: pglearn.search_document() and
 *	  pglearn.search_query().
 *
 * This file owns what a keyword search matches: which words an article's
 * search document holds and how a user's query becomes a tsquery over
 * them.  pglearn.search() (the SQL function) ranks the matches; the
 * documents are kept in pglearn.search_documents by a trigger, so that
 * rescoring an article never rewrites its search index entries.
 *
 * Words are exactly the tokens features() takes from a title or body
 * (features_text_tokens in features.c): NFKC, runs of letters and digits
 * lower-cased by a built-in table, and overlapping character bigrams for
 * Han, kana and Hangul.  So Japanese is searched by the same bigrams it
 * is classified by, the same on every server whatever its locale, where a
 * text search configuration would see a run of kanji as one word.
 *
 * A document is the words of the title (weight A), the description
 * (weight B), the URL after its scheme (weight C) and the body (weight
 * D), with their positions, so phrases and ts_rank_cd work.  Each field
 * contributes words up to SEARCH_FIELD_BUDGET bytes of tsvector, which
 * keeps every document inside the 1 MB a tsvector may hold: an insert of
 * a huge page never fails, its tail is only not searchable.
 *
 * A query uses web-search syntax, as websearch_to_tsquery does: words
 * must all appear (AND); "quoted words" must appear as a phrase; `or`
 * between two terms lets either match; a leading `-` excludes a word or
 * a phrase.  A word that gives several tokens (e-mail, or a run of kana)
 * must match them as a phrase.  OR binds tighter than AND: `a b or c`
 * is a & (b | c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "lib/stringinfo.h"
#include "nodes/pg_list.h"
#include "tsearch/ts_type.h"
#include "tsearch/ts_utils.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"

#include "featurize.h"

PG_FUNCTION_INFO_V1(pglearn_search_document);
PG_FUNCTION_INFO_V1(pglearn_search_query);

/*
 * Bytes of tsvector one field may fill.  make_tsvector needs, per
 * occurrence of a word, at most its bytes plus a 2-byte position, and per
 * distinct word 2 to 3 bytes more; counting len + 5 per occurrence bounds
 * it.  Four fields of 240 kB stay under MAXSTRPOS (1 MB - 1).  240 kB is
 * some 40,000 English words, far more than an article's main text.
 */
#define SEARCH_FIELD_BUDGET		(240 * 1024)

/* The longest query accepted, in bytes. */
#define SEARCH_MAX_QUERY_BYTES	4096

/* Words of one field on their way into a tsvector. */
typedef struct DocumentWords
{
	ParsedText	parsed;
	int64		spent;			/* bytes counted against the budget */
} DocumentWords;

static int
collect_document_word(void *arg, const char *token, size_t len)
{
	DocumentWords *words = (DocumentWords *) arg;
	ParsedWord *word;

	words->spent += (int64) len + 5;
	if (words->spent > SEARCH_FIELD_BUDGET)
		return 1;				/* the rest of the field is not searchable */

	if (words->parsed.curwords == words->parsed.lenwords)
	{
		words->parsed.lenwords *= 2;
		words->parsed.words = repalloc(words->parsed.words,
									   sizeof(ParsedWord) * words->parsed.lenwords);
	}
	word = &words->parsed.words[words->parsed.curwords++];
	word->len = (uint16) len;	/* tokens are at most 64 bytes plus prefix */
	word->nvariant = 0;
	word->flags = 0;
	word->alen = 0;
	word->word = pnstrdup(token, len);
	word->pos.pos = LIMITPOS(words->parsed.pos);
	words->parsed.pos++;
	return 0;
}

/* The words of one field as a tsvector of the given weight. */
static Datum
field_vector(text *field, char weight)
{
	DocumentWords words;
	Datum		vector;

	words.parsed.lenwords = 64;
	words.parsed.curwords = 0;
	words.parsed.pos = 1;
	words.parsed.words = palloc(sizeof(ParsedWord) * words.parsed.lenwords);
	words.spent = 0;

	if (field != NULL)
		features_text_tokens(field, "", collect_document_word, &words);

	vector = PointerGetDatum(make_tsvector(&words.parsed));
	if (weight != 'D')
		vector = DirectFunctionCall2(tsvector_setweight, vector,
									 CharGetDatum(weight));
	return vector;
}

/* The URL without its scheme, whose word ("https") every article has. */
static text *
url_without_scheme(text *url)
{
	const char *s = VARDATA_ANY(url);
	int			len = VARSIZE_ANY_EXHDR(url);
	int			i;

	for (i = 0; i + 2 < len; i++)
	{
		if (s[i] == ':' && s[i + 1] == '/' && s[i + 2] == '/')
			return cstring_to_text_with_len(s + i + 3, len - i - 3);
		if (s[i] == '/' || s[i] == '?' || s[i] == '#')
			break;
	}
	return url;
}

/*
 * search_document(url, title, description, body) returns tsvector: the
 * search document of an article (NULL fields are empty).
 */
Datum
pglearn_search_document(PG_FUNCTION_ARGS)
{
	MemoryContext scratch;
	MemoryContext caller = CurrentMemoryContext;
	Datum		document;
	TSVector	result;

	scratch = AllocSetContextCreate(CurrentMemoryContext,
									"pglearn search document",
									ALLOCSET_DEFAULT_SIZES);
	MemoryContextSwitchTo(scratch);

	document = field_vector(PG_ARGISNULL(1) ? NULL : PG_GETARG_TEXT_PP(1), 'A');
	document = DirectFunctionCall2(tsvector_concat, document,
								   field_vector(PG_ARGISNULL(2) ? NULL : PG_GETARG_TEXT_PP(2), 'B'));
	document = DirectFunctionCall2(tsvector_concat, document,
								   field_vector(PG_ARGISNULL(0) ? NULL : url_without_scheme(PG_GETARG_TEXT_PP(0)), 'C'));
	document = DirectFunctionCall2(tsvector_concat, document,
								   field_vector(PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3), 'D'));

	MemoryContextSwitchTo(caller);
	result = (TSVector) palloc(VARSIZE(DatumGetPointer(document)));
	memcpy(result, DatumGetPointer(document), VARSIZE(DatumGetPointer(document)));
	MemoryContextDelete(scratch);
	PG_RETURN_TSVECTOR(result);
}

/* The tokens of one query term, in order. */
static int
collect_query_token(void *arg, const char *token, size_t len)
{
	List	  **tokens = (List **) arg;

	*tokens = lappend(*tokens, pnstrdup(token, len));
	return 0;
}

/* Append a lexeme in tsquery input syntax: quoted, quotes and \ doubled. */
static void
append_lexeme(StringInfo out, const char *lexeme)
{
	appendStringInfoChar(out, '\'');
	for (; *lexeme; lexeme++)
	{
		if (*lexeme == '\'' || *lexeme == '\\')
			appendStringInfoChar(out, *lexeme);
		appendStringInfoChar(out, *lexeme);
	}
	appendStringInfoChar(out, '\'');
}

/*
 * One term (a word or a quoted phrase) in tsquery syntax, or NULL when it
 * has no words.
 */
static char *
query_term(const char *s, int len, bool negated)
{
	List	   *tokens = NIL;
	StringInfoData out;
	ListCell   *lc;

	features_text_tokens(cstring_to_text_with_len(s, len), "",
						 collect_query_token, &tokens);
	if (tokens == NIL)
		return NULL;

	initStringInfo(&out);
	if (negated)
		appendStringInfoChar(&out, '!');
	if (negated || list_length(tokens) > 1)
		appendStringInfoChar(&out, '(');
	foreach(lc, tokens)
	{
		if (lc != list_head(tokens))
			appendStringInfoString(&out, " <-> ");
		append_lexeme(&out, (const char *) lfirst(lc));
	}
	if (negated || list_length(tokens) > 1)
		appendStringInfoChar(&out, ')');
	return out.data;
}

static bool
is_query_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/*
 * search_query(query text) returns tsquery: a web-search style query over
 * search documents (the syntax is in the header comment).  A query
 * without words gives the empty tsquery, which matches nothing.
 */
Datum
pglearn_search_query(PG_FUNCTION_ARGS)
{
	text	   *query = PG_GETARG_TEXT_PP(0);
	const char *s = VARDATA_ANY(query);
	int			len = VARSIZE_ANY_EXHDR(query);
	int			pos = 0;
	List	   *groups = NIL;	/* of List of terms, AND of ORs */
	bool		or_pending = false;
	StringInfoData out;
	ListCell   *lg;

	if (len > SEARCH_MAX_QUERY_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("search query is too long"),
				 errdetail("The query has %d bytes; at most %d are accepted.",
						   len, SEARCH_MAX_QUERY_BYTES),
				 errhint("Search for fewer words.")));

	while (pos < len)
	{
		bool		negated = false;
		bool		quoted = false;
		int			start;
		int			end;
		char	   *term;

		while (pos < len && is_query_space(s[pos]))
			pos++;
		if (pos >= len)
			break;
		if (s[pos] == '-')
		{
			negated = true;
			pos++;
		}
		if (pos < len && s[pos] == '"')
		{
			quoted = true;
			start = ++pos;
			while (pos < len && s[pos] != '"')
				pos++;
			end = pos;
			if (pos < len)
				pos++;			/* the closing quote */
		}
		else
		{
			start = pos;
			while (pos < len && !is_query_space(s[pos]) && s[pos] != '"')
				pos++;
			end = pos;
		}

		if (!quoted && !negated && end - start == 2 &&
			pg_strncasecmp(s + start, "or", 2) == 0)
		{
			/* "or" joins the previous term and the next one */
			or_pending = (groups != NIL);
			continue;
		}

		term = query_term(s + start, end - start, negated);
		if (term == NULL)
			continue;			/* punctuation only: nothing to match */
		if (or_pending)
		{
			List	   *last = (List *) llast(groups);

			llast(groups) = lappend(last, term);
		}
		else
			groups = lappend(groups, list_make1(term));
		or_pending = false;
	}

	if (groups == NIL)
	{
		TSQuery		empty = (TSQuery) palloc0(HDRSIZETQ);

		SET_VARSIZE(empty, HDRSIZETQ);
		empty->size = 0;
		PG_RETURN_TSQUERY(empty);
	}

	initStringInfo(&out);
	foreach(lg, groups)
	{
		List	   *alternatives = (List *) lfirst(lg);
		ListCell   *la;

		if (lg != list_head(groups))
			appendStringInfoString(&out, " & ");
		if (list_length(alternatives) > 1)
			appendStringInfoChar(&out, '(');
		foreach(la, alternatives)
		{
			if (la != list_head(alternatives))
				appendStringInfoString(&out, " | ");
			appendStringInfoString(&out, (const char *) lfirst(la));
		}
		if (list_length(alternatives) > 1)
			appendStringInfoChar(&out, ')');
	}
	return DirectFunctionCall1(tsqueryin, CStringGetDatum(out.data));
}
