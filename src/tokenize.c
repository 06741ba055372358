/*-------------------------------------------------------------------------
 *
 * tokenize.c
 *	  Turning URLs and text into feature tokens; the fixed feature hash.
 *
 * This file owns the token rules of pglearn's features and the hash that
 * maps a token to a feature index.  It is plain C without PostgreSQL
 * headers so the crawler (or any client) can link the very same rules.  It
 * does not normalise Unicode (the caller applies NFKC first), count tokens,
 * weight them or build vectors: that is features.c.
 *
 * Input is UTF-8.  Bytes that are not part of a well-formed UTF-8 sequence
 * (stray continuation bytes, overlong forms, surrogates, truncated
 * sequences, code points above U+10FFFF) are skipped and end the current
 * word, exactly like a space would.
 *
 * Text rules (tokenize_text):
 *	- A character is a word character (letters and digits of scripts that
 *	  separate words with spaces: Latin incl. accented letters and IPA,
 *	  Greek, Cyrillic, Armenian, Georgian, Hebrew, Arabic, the Indic
 *	  scripts, Thai, Lao; combining marks), a CJK character (Han incl.
 *	  extensions and compatibility ideographs, the iteration marks 々 〆 〇,
 *	  Hiragana, Katakana incl. the prolonged sound mark ー and half-width
 *	  forms, Bopomofo, Hangul syllables and jamo) or a separator (everything
 *	  else: punctuation, symbols, spaces, emoji, the katakana middle dot ・).
 *	  The sets are fixed range tables below, not the server's locale.
 *	- A word is a maximal run of word characters, lower-cased with the
 *	  built-in simple case mapping of tokenize_lower().  Apostrophes,
 *	  hyphens, dots and underscores are separators: "don't" gives "don"
 *	  and "t", "e-mail" gives "e" and "mail".  Digits-only words are kept.
 *	- A word longer than TOKENIZE_MAX_WORD bytes (64, counted after
 *	  lower-casing, without the prefix) is cut to its first 64 bytes at a
 *	  character boundary.  A run longer than TOKENIZE_MAX_RUN bytes (256) is
 *	  not a word at all (base64, hex dumps, minified code) and is skipped.
 *	- A maximal run of CJK characters becomes its overlapping character
 *	  bigrams ("機械学習" gives 機械, 械学, 学習); a run of one character
 *	  gives that character alone.  Han, kana and Hangul form one run, so
 *	  "学習する" gives 学習, 習す, する.  A change between word characters
 *	  and CJK ends the run: "Postgresで学習" gives "postgres", "で学", "学習".
 *	  CJK runs have no length limit; each bigram is at most 8 bytes.
 *	- Every token is the prefix followed by the word or n-gram bytes.
 *
 * URL rules (tokenize_url) are described at that function.
 *
 *-------------------------------------------------------------------------
 */
#include "hex.h"
#include "tokenize.h"
#include "tracking.h"

#include <string.h>

/* Longest word kept, in bytes after lower-casing (longer words are cut). */
#define TOKENIZE_MAX_WORD	64

/* Longest run of word characters that still counts as a word, in bytes. */
#define TOKENIZE_MAX_RUN	256

/* Longest prefix accepted by tokenize_text(). */
#define TOKENIZE_MAX_PREFIX 32

/* Longest host name we treat as one (DNS allows 253 characters). */
#define TOKENIZE_MAX_HOST	255

/* Character classes of the text tokenizer. */
#define CLASS_SEPARATOR		0
#define CLASS_WORD			1
#define CLASS_CJK			2

typedef struct CharRange
{
	uint32_t	first;
	uint32_t	last;
	int			class;
} CharRange;

/*
 * Word and CJK characters, sorted and non-overlapping; every code point not
 * listed is a separator.  The ranges follow the Unicode blocks and leave out
 * the punctuation and symbols inside them that matter in practice.
 */
static const CharRange char_ranges[] = {
	{0x0030, 0x0039, CLASS_WORD},	/* ASCII digits */
	{0x0041, 0x005A, CLASS_WORD},	/* ASCII letters */
	{0x0061, 0x007A, CLASS_WORD},
	{0x00AA, 0x00AA, CLASS_WORD},	/* ª */
	{0x00B5, 0x00B5, CLASS_WORD},	/* µ */
	{0x00BA, 0x00BA, CLASS_WORD},	/* º */
	{0x00C0, 0x00D6, CLASS_WORD},	/* Latin-1 letters, without × */
	{0x00D8, 0x00F6, CLASS_WORD},	/* ... and without ÷ */
	{0x00F8, 0x02C1, CLASS_WORD},	/* Latin Extended-A/B, IPA, modifiers */
	{0x02C6, 0x02D1, CLASS_WORD},
	{0x02E0, 0x02E4, CLASS_WORD},
	{0x02EC, 0x02EC, CLASS_WORD},
	{0x02EE, 0x02EE, CLASS_WORD},
	{0x0300, 0x0374, CLASS_WORD},	/* combining marks, Greek */
	{0x0376, 0x037D, CLASS_WORD},
	{0x037F, 0x037F, CLASS_WORD},
	{0x0386, 0x0386, CLASS_WORD},
	{0x0388, 0x03F5, CLASS_WORD},
	{0x03F7, 0x0481, CLASS_WORD},	/* Greek, Cyrillic */
	{0x0483, 0x052F, CLASS_WORD},
	{0x0531, 0x0556, CLASS_WORD},	/* Armenian */
	{0x0559, 0x0559, CLASS_WORD},
	{0x0560, 0x0588, CLASS_WORD},
	{0x0591, 0x05BD, CLASS_WORD},	/* Hebrew */
	{0x05BF, 0x05BF, CLASS_WORD},
	{0x05C1, 0x05C2, CLASS_WORD},
	{0x05C4, 0x05C5, CLASS_WORD},
	{0x05C7, 0x05C7, CLASS_WORD},
	{0x05D0, 0x05EA, CLASS_WORD},
	{0x05EF, 0x05F2, CLASS_WORD},
	{0x0610, 0x061A, CLASS_WORD},	/* Arabic */
	{0x0620, 0x0669, CLASS_WORD},
	{0x066E, 0x06D3, CLASS_WORD},
	{0x06D5, 0x06DC, CLASS_WORD},
	{0x06DF, 0x06E8, CLASS_WORD},
	{0x06EA, 0x06FC, CLASS_WORD},
	{0x06FF, 0x06FF, CLASS_WORD},
	{0x0900, 0x0963, CLASS_WORD},	/* Devanagari, without the dandas */
	{0x0966, 0x0DFF, CLASS_WORD},	/* Bengali ... Sinhala */
	{0x0E01, 0x0E3A, CLASS_WORD},	/* Thai */
	{0x0E40, 0x0E4E, CLASS_WORD},
	{0x0E50, 0x0E59, CLASS_WORD},
	{0x0E81, 0x0EDF, CLASS_WORD},	/* Lao */
	{0x10A0, 0x10FA, CLASS_WORD},	/* Georgian */
	{0x10FC, 0x10FF, CLASS_WORD},
	{0x1100, 0x11FF, CLASS_CJK},	/* Hangul Jamo */
	{0x1C80, 0x1C88, CLASS_WORD},	/* Cyrillic Extended-C */
	{0x1C90, 0x1CBA, CLASS_WORD},	/* Georgian Mtavruli */
	{0x1CBD, 0x1CBF, CLASS_WORD},
	{0x1D00, 0x1DFF, CLASS_WORD},	/* phonetic extensions, marks */
	{0x1E00, 0x1FBC, CLASS_WORD},	/* Latin Extended Additional, Greek
									 * Extended */
	{0x1FBE, 0x1FBE, CLASS_WORD},
	{0x1FC2, 0x1FCC, CLASS_WORD},
	{0x1FD0, 0x1FDB, CLASS_WORD},
	{0x1FE0, 0x1FEC, CLASS_WORD},
	{0x1FF2, 0x1FFC, CLASS_WORD},
	{0x2C60, 0x2C7F, CLASS_WORD},	/* Latin Extended-C */
	{0x2D00, 0x2D2D, CLASS_WORD},	/* Georgian Supplement */
	{0x2DE0, 0x2DFF, CLASS_WORD},	/* Cyrillic Extended-A */
	{0x2E80, 0x2FDF, CLASS_CJK},	/* CJK and Kangxi radicals */
	{0x3005, 0x3007, CLASS_CJK},	/* 々 〆 〇 */
	{0x3021, 0x3029, CLASS_CJK},	/* Hangzhou numerals */
	{0x3031, 0x3035, CLASS_CJK},	/* kana repeat marks */
	{0x303B, 0x303C, CLASS_CJK},
	{0x3041, 0x3096, CLASS_CJK},	/* Hiragana */
	{0x3099, 0x309F, CLASS_CJK},	/* voicing marks, iteration marks */
	{0x30A1, 0x30FA, CLASS_CJK},	/* Katakana, without ゠ */
	{0x30FC, 0x30FF, CLASS_CJK},	/* ー ヽ ヾ ヿ, without the middle dot */
	{0x3105, 0x312F, CLASS_CJK},	/* Bopomofo */
	{0x3131, 0x318E, CLASS_CJK},	/* Hangul Compatibility Jamo */
	{0x31A0, 0x31BF, CLASS_CJK},	/* Bopomofo Extended */
	{0x31F0, 0x31FF, CLASS_CJK},	/* Katakana Phonetic Extensions */
	{0x3400, 0x4DBF, CLASS_CJK},	/* CJK Extension A */
	{0x4E00, 0x9FFF, CLASS_CJK},	/* CJK Unified Ideographs */
	{0xA640, 0xA69F, CLASS_WORD},	/* Cyrillic Extended-B */
	{0xA720, 0xA7FF, CLASS_WORD},	/* Latin Extended-D */
	{0xA960, 0xA97F, CLASS_CJK},	/* Hangul Jamo Extended-A */
	{0xAB30, 0xAB6F, CLASS_WORD},	/* Latin Extended-E */
	{0xAC00, 0xD7A3, CLASS_CJK},	/* Hangul Syllables */
	{0xD7B0, 0xD7FF, CLASS_CJK},	/* Hangul Jamo Extended-B */
	{0xF900, 0xFAFF, CLASS_CJK},	/* CJK Compatibility Ideographs */
	{0xFB00, 0xFB06, CLASS_WORD},	/* Latin ligatures */
	{0xFF10, 0xFF19, CLASS_WORD},	/* full-width digits and letters */
	{0xFF21, 0xFF3A, CLASS_WORD},
	{0xFF41, 0xFF5A, CLASS_WORD},
	{0xFF66, 0xFF9F, CLASS_CJK},	/* half-width Katakana */
	{0x20000, 0x323AF, CLASS_CJK},	/* CJK Extensions B-H, compatibility
									 * supplement */
};

/*
 * Lower-case mapping.  A plain range maps every code point by adding delta;
 * an "alternating" range holds upper/lower pairs (upper at even offsets
 * from first) and maps only the upper ones, to the next code point.
 */
typedef struct CaseRange
{
	uint32_t	first;
	uint32_t	last;
	int32_t		delta;
	int			alternating;
} CaseRange;

/*
 * Simple (one code point to one code point) lower-case mapping of
 * UnicodeData.txt for the word scripts above, plus a few case foldings of
 * CaseFolding.txt that make spellings meet: final sigma ς -> σ, the Greek
 * symbol variants (ϐ ϑ ϕ ϖ ϰ ϱ ϵ), µ -> μ, ſ -> s, ẛ -> ṡ.  ß and its
 * capital ẞ stay ß (no expansion to "ss"), İ becomes plain i, dotless ı
 * stays.  Sorted and non-overlapping.
 */
static const CaseRange case_ranges[] = {
	{0x0041, 0x005A, 32, 0},
	{0x00B5, 0x00B5, 0x03BC - 0x00B5, 0},
	{0x00C0, 0x00D6, 32, 0},
	{0x00D8, 0x00DE, 32, 0},
	{0x0100, 0x012F, 1, 1},
	{0x0130, 0x0130, 0x0069 - 0x0130, 0},
	{0x0132, 0x0137, 1, 1},
	{0x0139, 0x0148, 1, 1},
	{0x014A, 0x0177, 1, 1},
	{0x0178, 0x0178, 0x00FF - 0x0178, 0},
	{0x0179, 0x017E, 1, 1},
	{0x017F, 0x017F, 0x0073 - 0x017F, 0},
	{0x0181, 0x0181, 0x0253 - 0x0181, 0},
	{0x0182, 0x0185, 1, 1},
	{0x0186, 0x0186, 0x0254 - 0x0186, 0},
	{0x0187, 0x0187, 1, 0},
	{0x0189, 0x018A, 0x0256 - 0x0189, 0},
	{0x018B, 0x018B, 1, 0},
	{0x018E, 0x018E, 0x01DD - 0x018E, 0},
	{0x018F, 0x018F, 0x0259 - 0x018F, 0},
	{0x0190, 0x0190, 0x025B - 0x0190, 0},
	{0x0191, 0x0191, 1, 0},
	{0x0193, 0x0193, 0x0260 - 0x0193, 0},
	{0x0194, 0x0194, 0x0263 - 0x0194, 0},
	{0x0196, 0x0196, 0x0269 - 0x0196, 0},
	{0x0197, 0x0197, 0x0268 - 0x0197, 0},
	{0x0198, 0x0198, 1, 0},
	{0x019C, 0x019C, 0x026F - 0x019C, 0},
	{0x019D, 0x019D, 0x0272 - 0x019D, 0},
	{0x019F, 0x019F, 0x0275 - 0x019F, 0},
	{0x01A0, 0x01A5, 1, 1},
	{0x01A6, 0x01A6, 0x0280 - 0x01A6, 0},
	{0x01A7, 0x01A7, 1, 0},
	{0x01A9, 0x01A9, 0x0283 - 0x01A9, 0},
	{0x01AC, 0x01AC, 1, 0},
	{0x01AE, 0x01AE, 0x0288 - 0x01AE, 0},
	{0x01AF, 0x01AF, 1, 0},
	{0x01B1, 0x01B2, 0x028A - 0x01B1, 0},
	{0x01B3, 0x01B3, 1, 0},
	{0x01B5, 0x01B5, 1, 0},
	{0x01B7, 0x01B7, 0x0292 - 0x01B7, 0},
	{0x01B8, 0x01B8, 1, 0},
	{0x01BC, 0x01BC, 1, 0},
	{0x01C4, 0x01C4, 2, 0},
	{0x01C5, 0x01C5, 1, 0},
	{0x01C7, 0x01C7, 2, 0},
	{0x01C8, 0x01C8, 1, 0},
	{0x01CA, 0x01CA, 2, 0},
	{0x01CB, 0x01DC, 1, 1},
	{0x01DE, 0x01EF, 1, 1},
	{0x01F1, 0x01F1, 2, 0},
	{0x01F2, 0x01F2, 1, 0},
	{0x01F4, 0x01F4, 1, 0},
	{0x01F6, 0x01F6, 0x0195 - 0x01F6, 0},
	{0x01F7, 0x01F7, 0x01BF - 0x01F7, 0},
	{0x01F8, 0x021F, 1, 1},
	{0x0220, 0x0220, 0x019E - 0x0220, 0},
	{0x0222, 0x0233, 1, 1},
	{0x023A, 0x023A, 0x2C65 - 0x023A, 0},
	{0x023B, 0x023B, 1, 0},
	{0x023D, 0x023D, 0x019A - 0x023D, 0},
	{0x023E, 0x023E, 0x2C66 - 0x023E, 0},
	{0x0241, 0x0241, 1, 0},
	{0x0243, 0x0243, 0x0180 - 0x0243, 0},
	{0x0244, 0x0244, 0x0289 - 0x0244, 0},
	{0x0245, 0x0245, 0x028C - 0x0245, 0},
	{0x0246, 0x024F, 1, 1},
	{0x0370, 0x0373, 1, 1},
	{0x0376, 0x0376, 1, 0},
	{0x037F, 0x037F, 0x03F3 - 0x037F, 0},
	{0x0386, 0x0386, 0x03AC - 0x0386, 0},
	{0x0388, 0x038A, 0x03AD - 0x0388, 0},
	{0x038C, 0x038C, 0x03CC - 0x038C, 0},
	{0x038E, 0x038F, 0x03CD - 0x038E, 0},
	{0x0391, 0x03A1, 32, 0},
	{0x03A3, 0x03AB, 32, 0},
	{0x03C2, 0x03C2, 1, 0},
	{0x03CF, 0x03CF, 0x03D7 - 0x03CF, 0},
	{0x03D0, 0x03D0, 0x03B2 - 0x03D0, 0},
	{0x03D1, 0x03D1, 0x03B8 - 0x03D1, 0},
	{0x03D5, 0x03D5, 0x03C6 - 0x03D5, 0},
	{0x03D6, 0x03D6, 0x03C0 - 0x03D6, 0},
	{0x03D8, 0x03EF, 1, 1},
	{0x03F0, 0x03F0, 0x03BA - 0x03F0, 0},
	{0x03F1, 0x03F1, 0x03C1 - 0x03F1, 0},
	{0x03F4, 0x03F4, 0x03B8 - 0x03F4, 0},
	{0x03F5, 0x03F5, 0x03B5 - 0x03F5, 0},
	{0x03F7, 0x03F7, 1, 0},
	{0x03F9, 0x03F9, 0x03F2 - 0x03F9, 0},
	{0x03FA, 0x03FA, 1, 0},
	{0x03FD, 0x03FF, 0x037B - 0x03FD, 0},
	{0x0400, 0x040F, 80, 0},
	{0x0410, 0x042F, 32, 0},
	{0x0460, 0x0481, 1, 1},
	{0x048A, 0x04BF, 1, 1},
	{0x04C0, 0x04C0, 15, 0},
	{0x04C1, 0x04CE, 1, 1},
	{0x04D0, 0x052F, 1, 1},
	{0x0531, 0x0556, 48, 0},
	{0x10A0, 0x10C5, 0x2D00 - 0x10A0, 0},
	{0x10C7, 0x10C7, 0x2D27 - 0x10C7, 0},
	{0x10CD, 0x10CD, 0x2D2D - 0x10CD, 0},
	{0x1C90, 0x1CBA, 0x10D0 - 0x1C90, 0},
	{0x1CBD, 0x1CBF, 0x10FD - 0x1CBD, 0},
	{0x1E00, 0x1E95, 1, 1},
	{0x1E9B, 0x1E9B, 0x1E61 - 0x1E9B, 0},
	{0x1E9E, 0x1E9E, 0x00DF - 0x1E9E, 0},
	{0x1EA0, 0x1EFF, 1, 1},
	{0x1F08, 0x1F0F, -8, 0},
	{0x1F18, 0x1F1D, -8, 0},
	{0x1F28, 0x1F2F, -8, 0},
	{0x1F38, 0x1F3F, -8, 0},
	{0x1F48, 0x1F4D, -8, 0},
	{0x1F59, 0x1F59, -8, 0},
	{0x1F5B, 0x1F5B, -8, 0},
	{0x1F5D, 0x1F5D, -8, 0},
	{0x1F5F, 0x1F5F, -8, 0},
	{0x1F68, 0x1F6F, -8, 0},
	{0x1F88, 0x1F8F, -8, 0},
	{0x1F98, 0x1F9F, -8, 0},
	{0x1FA8, 0x1FAF, -8, 0},
	{0x1FB8, 0x1FB9, -8, 0},
	{0x1FBA, 0x1FBB, 0x1F70 - 0x1FBA, 0},
	{0x1FBC, 0x1FBC, -9, 0},
	{0x1FC8, 0x1FCB, 0x1F72 - 0x1FC8, 0},
	{0x1FCC, 0x1FCC, -9, 0},
	{0x1FD8, 0x1FD9, -8, 0},
	{0x1FDA, 0x1FDB, 0x1F76 - 0x1FDA, 0},
	{0x1FE8, 0x1FE9, -8, 0},
	{0x1FEA, 0x1FEB, 0x1F7A - 0x1FEA, 0},
	{0x1FEC, 0x1FEC, -7, 0},
	{0x1FF8, 0x1FF9, 0x1F78 - 0x1FF8, 0},
	{0x1FFA, 0x1FFB, 0x1F7C - 0x1FFA, 0},
	{0x1FFC, 0x1FFC, -9, 0},
	{0x2C60, 0x2C60, 1, 0},
	{0x2C62, 0x2C62, 0x026B - 0x2C62, 0},
	{0x2C63, 0x2C63, 0x1D7D - 0x2C63, 0},
	{0x2C64, 0x2C64, 0x027D - 0x2C64, 0},
	{0x2C67, 0x2C6C, 1, 1},
	{0x2C6D, 0x2C6D, 0x0251 - 0x2C6D, 0},
	{0x2C6E, 0x2C6E, 0x0271 - 0x2C6E, 0},
	{0x2C6F, 0x2C6F, 0x0250 - 0x2C6F, 0},
	{0x2C70, 0x2C70, 0x0252 - 0x2C70, 0},
	{0x2C72, 0x2C72, 1, 0},
	{0x2C75, 0x2C75, 1, 0},
	{0x2C7E, 0x2C7F, 0x023F - 0x2C7E, 0},
	{0xA640, 0xA66D, 1, 1},
	{0xA680, 0xA69B, 1, 1},
	{0xA722, 0xA72F, 1, 1},
	{0xA732, 0xA76F, 1, 1},
	{0xA779, 0xA77C, 1, 1},
	{0xA77D, 0xA77D, 0x1D79 - 0xA77D, 0},
	{0xA77E, 0xA787, 1, 1},
	{0xA78B, 0xA78B, 1, 0},
	{0xA78D, 0xA78D, 0x0265 - 0xA78D, 0},
	{0xA790, 0xA793, 1, 1},
	{0xA796, 0xA7A9, 1, 1},
	{0xA7AA, 0xA7AA, 0x0266 - 0xA7AA, 0},
	{0xA7AB, 0xA7AB, 0x025C - 0xA7AB, 0},
	{0xA7AC, 0xA7AC, 0x0261 - 0xA7AC, 0},
	{0xA7AD, 0xA7AD, 0x026C - 0xA7AD, 0},
	{0xA7AE, 0xA7AE, 0x026A - 0xA7AE, 0},
	{0xA7B0, 0xA7B0, 0x029E - 0xA7B0, 0},
	{0xA7B1, 0xA7B1, 0x0287 - 0xA7B1, 0},
	{0xA7B2, 0xA7B2, 0x029D - 0xA7B2, 0},
	{0xA7B3, 0xA7B3, 0xAB53 - 0xA7B3, 0},
	{0xA7B4, 0xA7C3, 1, 1},
	{0xA7C4, 0xA7C4, 0xA794 - 0xA7C4, 0},
	{0xA7C5, 0xA7C5, 0x0282 - 0xA7C5, 0},
	{0xA7C6, 0xA7C6, 0x1D8E - 0xA7C6, 0},
	{0xA7C7, 0xA7CA, 1, 1},
	{0xA7D0, 0xA7D0, 1, 0},
	{0xA7D6, 0xA7D9, 1, 1},
	{0xA7F5, 0xA7F5, 1, 0},
	{0xFF21, 0xFF3A, 32, 0},
};

#define lengthof(array) (sizeof(array) / sizeof((array)[0]))

/* A byte source over a string, optionally decoding %XX escapes. */
typedef struct ByteReader
{
	const unsigned char *s;
	size_t		len;
	size_t		pos;
	int			percent_decode;
} ByteReader;

/* Accumulates the current word or CJK run and hands tokens to the caller. */
typedef struct Tokenizer
{
	token_callback callback;
	void	   *arg;
	char		token[TOKENIZE_MAX_PREFIX + TOKENIZE_MAX_WORD];
	size_t		prefix_len;
	size_t		word_len;		/* bytes of the word kept in token[] */
	size_t		run_len;		/* bytes of the whole run (lower-cased) */
	uint32_t	cjk_prev;		/* previous CJK character of the run */
	size_t		cjk_count;		/* CJK characters in the run so far */
} Tokenizer;

/* Next byte, or -1 at the end.  A '%' without two hex digits is literal. */
static int
reader_byte(ByteReader *r)
{
	unsigned char c;

	if (r->pos >= r->len)
		return -1;
	c = r->s[r->pos];
	if (r->percent_decode && c == '%' && r->pos + 2 < r->len &&
		hex_digit_value(r->s[r->pos + 1]) >= 0 && hex_digit_value(r->s[r->pos + 2]) >= 0)
	{
		r->pos += 3;
		return hex_digit_value(r->s[r->pos - 2]) * 16 + hex_digit_value(r->s[r->pos - 1]);
	}
	r->pos++;
	return c;
}

/*
 * Next code point, -1 for an ill-formed byte (consumed alone, so decoding
 * resynchronises on the following byte), or -2 at the end.
 */
static int32_t
reader_next(ByteReader *r)
{
	int			c = reader_byte(r);
	int			more;
	uint32_t	cp;
	uint32_t	min;

	if (c < 0)
		return -2;
	if (c < 0x80)
		return c;
	if (c < 0xC2)
		return -1;				/* continuation byte, or overlong lead */
	else if (c < 0xE0)
	{
		more = 1;
		cp = c & 0x1F;
		min = 0x80;
	}
	else if (c < 0xF0)
	{
		more = 2;
		cp = c & 0x0F;
		min = 0x800;
	}
	else if (c < 0xF5)
	{
		more = 3;
		cp = c & 0x07;
		min = 0x10000;
	}
	else
		return -1;

	while (more-- > 0)
	{
		size_t		save = r->pos;
		int			b = reader_byte(r);

		if (b < 0 || (b & 0xC0) != 0x80)
		{
			r->pos = save;		/* leave it for the next call */
			return -1;
		}
		cp = (cp << 6) | (b & 0x3F);
	}
	if (cp < min || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
		return -1;
	return (int32_t) cp;
}

int32_t
tokenize_utf8_next(const char *s, size_t len, size_t *pos)
{
	ByteReader	r;
	int32_t		cp;

	r.s = (const unsigned char *) s;
	r.len = len;
	r.pos = *pos;
	r.percent_decode = 0;
	cp = reader_next(&r);
	*pos = r.pos;
	return cp;
}

/* Encode a valid code point as UTF-8 into out (room for 4); returns length. */
static size_t
utf8_encode(uint32_t cp, char *out)
{
	unsigned char *o = (unsigned char *) out;

	if (cp < 0x80)
	{
		o[0] = (unsigned char) cp;
		return 1;
	}
	if (cp < 0x800)
	{
		o[0] = (unsigned char) (0xC0 | (cp >> 6));
		o[1] = (unsigned char) (0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000)
	{
		o[0] = (unsigned char) (0xE0 | (cp >> 12));
		o[1] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
		o[2] = (unsigned char) (0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (unsigned char) (0xF0 | (cp >> 18));
	o[1] = (unsigned char) (0x80 | ((cp >> 12) & 0x3F));
	o[2] = (unsigned char) (0x80 | ((cp >> 6) & 0x3F));
	o[3] = (unsigned char) (0x80 | (cp & 0x3F));
	return 4;
}

static size_t
utf8_length(uint32_t cp)
{
	return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

int
tokenize_char_class(uint32_t cp)
{
	size_t		lo = 0;
	size_t		hi = lengthof(char_ranges);

	/* fast path for the common case */
	if (cp < 0x80)
	{
		if ((cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') ||
			(cp >= 'A' && cp <= 'Z'))
			return CLASS_WORD;
		return CLASS_SEPARATOR;
	}
	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;

		if (cp < char_ranges[mid].first)
			hi = mid;
		else if (cp > char_ranges[mid].last)
			lo = mid + 1;
		else
			return char_ranges[mid].class;
	}
	return CLASS_SEPARATOR;
}

uint32_t
tokenize_lower(uint32_t cp)
{
	size_t		lo = 0;
	size_t		hi = lengthof(case_ranges);

	if (cp < 0x80)
		return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
	while (lo < hi)
	{
		size_t		mid = (lo + hi) / 2;
		const CaseRange *range = &case_ranges[mid];

		if (cp < range->first)
			hi = mid;
		else if (cp > range->last)
			lo = mid + 1;
		else if (range->alternating)
			return ((cp - range->first) % 2 == 0) ? cp + 1 : cp;
		else
			return (uint32_t) ((int32_t) cp + range->delta);
	}
	return cp;
}

static int
emit(Tokenizer *t, size_t len)
{
	return t->callback(t->arg, t->token, t->prefix_len + len);
}

/* End the current word, emitting it unless it was too long to be one. */
static int
finish_word(Tokenizer *t)
{
	int			rc = 0;

	if (t->run_len > 0 && t->run_len <= TOKENIZE_MAX_RUN)
		rc = emit(t, t->word_len);
	t->word_len = 0;
	t->run_len = 0;
	return rc;
}

/* End the current CJK run; a run of one character is a unigram. */
static int
finish_cjk(Tokenizer *t)
{
	int			rc = 0;

	if (t->cjk_count == 1)
		rc = emit(t, utf8_encode(t->cjk_prev, t->token + t->prefix_len));
	t->cjk_count = 0;
	return rc;
}

static void
add_word_char(Tokenizer *t, uint32_t cp)
{
	uint32_t	lower = tokenize_lower(cp);
	size_t		n = utf8_length(lower);

	/* keep whole characters only, so a cut word is still valid UTF-8 */
	if (t->run_len == t->word_len && t->word_len + n <= TOKENIZE_MAX_WORD)
		t->word_len += utf8_encode(lower, t->token + t->prefix_len + t->word_len);
	t->run_len += n;
}

static int
add_cjk_char(Tokenizer *t, uint32_t cp)
{
	int			rc = 0;

	if (t->cjk_count > 0)
	{
		size_t		n = utf8_encode(t->cjk_prev, t->token + t->prefix_len);

		n += utf8_encode(cp, t->token + t->prefix_len + n);
		rc = emit(t, n);
	}
	t->cjk_prev = cp;
	t->cjk_count++;
	return rc;
}

/*
 * The lower case of each ASCII word byte (letters and digits), 0 for every
 * other byte: the ASCII part of char_ranges and case_ranges as one table,
 * for the fast path of tokenize_bytes (ASCII is most of most text, and of
 * every URL).  Bytes 0x80 and up are 0 too: they take the general path.
 */
#define L_DIGIT(c)	((c) >= '0' && (c) <= '9' ? (c) : 0)
#define L_ALPHA(c) \
	((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c) >= 'a' && (c) <= 'z' ? (c) : L_DIGIT(c))
#define L_ROW(c) L_ALPHA(c), L_ALPHA((c) + 1), L_ALPHA((c) + 2), L_ALPHA((c) + 3), \
	L_ALPHA((c) + 4), L_ALPHA((c) + 5), L_ALPHA((c) + 6), L_ALPHA((c) + 7)
static const unsigned char ascii_word_lower[256] = {
	L_ROW(0), L_ROW(8), L_ROW(16), L_ROW(24), L_ROW(32), L_ROW(40), L_ROW(48), L_ROW(56),
	L_ROW(64), L_ROW(72), L_ROW(80), L_ROW(88), L_ROW(96), L_ROW(104), L_ROW(112), L_ROW(120)
	/* 128..255: 0 */
};

#undef L_ROW
#undef L_ALPHA
#undef L_DIGIT

/*
 * The text tokenizer proper, over s[0..len), %XX-decoding it when
 * percent_decode is set.  Always inlined into its two callers, so each gets
 * a loop specialised for a constant percent_decode.
 *
 * A run of ASCII word bytes (the bulk of most text) is taken by the inner
 * loops with one table lookup per byte, without decoding or a call per
 * byte; they do exactly what add_word_char() does for each such byte (an
 * ASCII letter or digit lower-cases to one byte).  Anything else (non-ASCII,
 * ill-formed bytes, '%' when decoding) goes through reader_next() and the
 * range tables.  Both paths apply the one set of rules at the top of this
 * file; t/unit/test_tokenize.c and the SQL tests check them, and
 * t/features_ref compares features() with the code before the fast path.
 */
static inline __attribute__((always_inline)) int
tokenize_bytes(const char *prefix, const unsigned char *s, size_t len,
			   const int percent_decode, token_callback callback, void *arg)
{
	Tokenizer	t;
	ByteReader	r;
	size_t		pos = 0;
	int			rc = 0;

	t.prefix_len = strlen(prefix);
	if (t.prefix_len > TOKENIZE_MAX_PREFIX)
		return -1;
	memcpy(t.token, prefix, t.prefix_len);
	t.callback = callback;
	t.arg = arg;
	t.word_len = 0;
	t.run_len = 0;
	t.cjk_prev = 0;
	t.cjk_count = 0;
	r.s = s;
	r.len = len;
	r.percent_decode = percent_decode;

	while (pos < len)
	{
		unsigned char c = s[pos];
		int32_t		cp;
		int			class;

		if (c < 0x80 && !(percent_decode && c == '%'))
		{
			if (ascii_word_lower[c] != 0)
			{
				size_t		start;

				if (t.cjk_count > 0 && (rc = finish_cjk(&t)) != 0)
					return rc;

				/*
				 * While the word is whole so far, copy it lower-cased up to
				 * its 64 bytes; past that only count the run's length.
				 */
				if (t.run_len == t.word_len)
				{
					char	   *word = t.token + t.prefix_len + t.word_len;
					size_t		room = TOKENIZE_MAX_WORD - t.word_len;
					size_t		stop = len - pos < room ? len : pos + room;
					unsigned char lower;

					start = pos;
					while (pos < stop && (lower = ascii_word_lower[s[pos]]) != 0)
					{
						*word++ = (char) lower;
						pos++;
					}
					t.word_len += pos - start;
					t.run_len += pos - start;
				}
				start = pos;
				while (pos < len && ascii_word_lower[s[pos]] != 0)
					pos++;
				t.run_len += pos - start;
				continue;
			}
			/* an ASCII separator */
			pos++;
			if (t.run_len > 0 && (rc = finish_word(&t)) != 0)
				return rc;
			if (t.cjk_count > 0 && (rc = finish_cjk(&t)) != 0)
				return rc;
			continue;
		}

		r.pos = pos;
		cp = reader_next(&r);
		pos = r.pos;
		class = cp < 0 ? CLASS_SEPARATOR : tokenize_char_class((uint32_t) cp);

		if (class == CLASS_WORD)
		{
			if (t.cjk_count > 0 && (rc = finish_cjk(&t)) != 0)
				return rc;
			add_word_char(&t, (uint32_t) cp);
		}
		else if (class == CLASS_CJK)
		{
			if (t.run_len > 0 && (rc = finish_word(&t)) != 0)
				return rc;
			if ((rc = add_cjk_char(&t, (uint32_t) cp)) != 0)
				return rc;
		}
		else
		{
			if (t.run_len > 0 && (rc = finish_word(&t)) != 0)
				return rc;
			if (t.cjk_count > 0 && (rc = finish_cjk(&t)) != 0)
				return rc;
		}
	}
	if (t.run_len > 0 && (rc = finish_word(&t)) != 0)
		return rc;
	if (t.cjk_count > 0)
		rc = finish_cjk(&t);
	return rc;
}

/*
 * Emit the tokens of text[0..len) as described at the top of this file,
 * each starting with prefix (a NUL-terminated string of at most 32 bytes).
 *
 * Returns 0 after the last token, the callback's nonzero return value if it
 * asked to stop, or -1 if the prefix is too long.
 */
int
tokenize_text(const char *prefix, const char *text, size_t len,
			  token_callback callback, void *arg)
{
	return tokenize_bytes(prefix, (const unsigned char *) text, len, 0,
						  callback, arg);
}

/* Text tokens of url[start..end) after %XX decoding. */
static int
tokenize_url_words(const char *url, size_t start, size_t end,
				   token_callback callback, void *arg)
{
	return tokenize_bytes("u:p:", (const unsigned char *) url + start,
						  end - start, 1, callback, arg);
}

/*
 * Emit "u:h:<host>" and the "u:s:<suffix>" tokens of url[start..end), the
 * host part of the authority (userinfo and port already removed).
 */
static int
tokenize_host(const char *url, size_t start, size_t end,
			  token_callback callback, void *arg)
{
	char		token[4 + 4 * TOKENIZE_MAX_HOST];
	size_t		len = 4;
	size_t		pos = start;
	const char *host;
	size_t		host_len;
	int			is_ip = 1;
	int			rc;
	size_t		i;

	/* a trailing dot names the same host (absolute DNS name) */
	while (end > start && url[end - 1] == '.')
		end--;
	if (end == start || end - start > TOKENIZE_MAX_HOST)
		return 0;

	/* lower-case; a host that is not valid UTF-8 gives no host tokens */
	memcpy(token, "u:h:", 4);
	while (pos < end)
	{
		int32_t		cp = tokenize_utf8_next(url, end, &pos);

		if (cp < 0)
			return 0;
		len += utf8_encode(tokenize_lower((uint32_t) cp), token + len);
	}
	host = token + 4;
	host_len = len - 4;

	/* "www.example.com" is the same site as "example.com" */
	if (host_len > 4 && memcmp(host, "www.", 4) == 0 &&
		memchr(host + 4, '.', host_len - 4) != NULL)
	{
		memmove(token + 4, token + 8, host_len - 4);
		host_len -= 4;
	}
	if (host_len > TOKENIZE_MAX_HOST)
		return 0;
	if ((rc = callback(arg, token, 4 + host_len)) != 0)
		return rc;

	/* suffixes make no sense for IP addresses */
	if (host[0] == '[')
		return 0;
	for (i = 0; i < host_len; i++)
		if (!((host[i] >= '0' && host[i] <= '9') || host[i] == '.'))
			is_ip = 0;
	if (is_ip)
		return 0;

	for (i = 0; i < host_len; i++)
	{
		if (host[i] == '.' && i + 1 < host_len && host[i + 1] != '.')
		{
			char		suffix[4 + 4 * TOKENIZE_MAX_HOST];
			size_t		n = host_len - (i + 1);

			memcpy(suffix, "u:s:", 4);
			memcpy(suffix + 4, host + i + 1, n);
			if ((rc = callback(arg, suffix, 4 + n)) != 0)
				return rc;
		}
	}
	return 0;
}

/*
 * Emit the tokens of a URL.
 *
 *	- Leading and trailing spaces and control characters are ignored.  The
 *	  scheme ("https:") is not a token.  With "scheme://" the authority
 *	  follows; a string without a scheme is read as starting with the host
 *	  ("example.com/a") unless it starts with "/" (a bare path); "host:port"
 *	  without a scheme is recognised by the digits after the colon; any
 *	  other "scheme:rest" (mailto:, urn:) has no host, and rest is path.
 *	- The host is what lies between "//" and the first "/", "\", "?" or
 *	  "#", after the last "@" (userinfo is dropped) and before the port.
 *	  Trailing dots are dropped, the host is lower-cased (IDN hosts are kept
 *	  as written: punycode stays punycode, a Unicode host is lower-cased
 *	  like words) and a leading "www." is removed when a dot remains, so
 *	  www.example.com and example.com are one site.  It gives "u:h:<host>",
 *	  and every suffix after a dot gives "u:s:<suffix>" (news.example.co.jp
 *	  gives u:s:example.co.jp, u:s:co.jp and u:s:jp).  IPv4 addresses and
 *	  bracketed IPv6 literals give u:h: only; hosts that are empty, longer
 *	  than 255 bytes or not valid UTF-8 give nothing.
 *	- The path and the query are %XX-decoded and split into words with the
 *	  text rules under the prefix "u:p:".  Query parameters are separated by
 *	  "&" or ";"; parameters named utm_* (any case), fbclid and gclid are
 *	  skipped; of the others both name and value are words.
 *	- The fragment ("#...") is ignored: it is not sent to the server and
 *	  mostly names a place inside the same page.
 *
 * Returns 0, or the callback's nonzero return value if it asked to stop.
 */
int
tokenize_url(const char *url, size_t len,
			 token_callback callback, void *arg)
{
	size_t		start = 0;
	size_t		end = len;
	size_t		pos;
	size_t		auth_start;
	size_t		path_start;
	size_t		query_start;
	size_t		fragment_start;
	int			has_authority = 1;
	int			rc;

	while (start < end && (unsigned char) url[start] <= ' ')
		start++;
	while (end > start && (unsigned char) url[end - 1] <= ' ')
		end--;
	if (start == end)
		return 0;

	/* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" (RFC 3986) */
	auth_start = start;
	pos = start;
	if ((url[pos] >= 'a' && url[pos] <= 'z') || (url[pos] >= 'A' && url[pos] <= 'Z'))
	{
		while (pos < end &&
			   ((url[pos] >= 'a' && url[pos] <= 'z') ||
				(url[pos] >= 'A' && url[pos] <= 'Z') ||
				(url[pos] >= '0' && url[pos] <= '9') ||
				url[pos] == '+' || url[pos] == '-' || url[pos] == '.'))
			pos++;
		if (pos < end && url[pos] == ':')
		{
			size_t		digits = pos + 1;

			while (digits < end && url[digits] >= '0' && url[digits] <= '9')
				digits++;
			if (end - pos >= 3 && url[pos + 1] == '/' && url[pos + 2] == '/')
				auth_start = pos + 3;
			else if (digits > pos + 1 &&
					 (digits == end || url[digits] == '/' ||
					  url[digits] == '?' || url[digits] == '#'))
				auth_start = start; /* "example.com:8080/path" */
			else
			{
				has_authority = 0;	/* "mailto:...", "urn:..." */
				auth_start = pos + 1;
			}
		}
	}
	else if (end - start >= 2 && url[start] == '/' && url[start + 1] == '/')
		auth_start = start + 2;
	else if (url[start] == '/')
		has_authority = 0;

	path_start = auth_start;
	if (has_authority)
	{
		size_t		host_start = auth_start;
		size_t		host_end;

		while (path_start < end && url[path_start] != '/' &&
			   url[path_start] != '\\' && url[path_start] != '?' &&
			   url[path_start] != '#')
			path_start++;
		for (pos = auth_start; pos < path_start; pos++)
			if (url[pos] == '@')
				host_start = pos + 1;
		host_end = host_start;
		if (host_start < path_start && url[host_start] == '[')
		{
			while (host_end < path_start && url[host_end] != ']')
				host_end++;
			if (host_end < path_start)
				host_end++;		/* keep the closing bracket */
		}
		else
		{
			while (host_end < path_start && url[host_end] != ':')
				host_end++;
		}
		if ((rc = tokenize_host(url, host_start, host_end, callback, arg)) != 0)
			return rc;
	}

	query_start = path_start;
	while (query_start < end && url[query_start] != '?' && url[query_start] != '#')
		query_start++;
	fragment_start = query_start;
	while (fragment_start < end && url[fragment_start] != '#')
		fragment_start++;

	if ((rc = tokenize_url_words(url, path_start, query_start, callback, arg)) != 0)
		return rc;

	/* query parameters, one at a time so tracking ones can be skipped */
	pos = query_start < fragment_start ? query_start + 1 : fragment_start;
	while (pos < fragment_start)
	{
		size_t		param_end = pos;

		while (param_end < fragment_start && url[param_end] != '&' &&
			   url[param_end] != ';')
			param_end++;
		if (!is_tracking_parameter(url + pos, param_end - pos) &&
			(rc = tokenize_url_words(url, pos, param_end, callback, arg)) != 0)
			return rc;
		pos = param_end + 1;
	}
	return 0;
}
