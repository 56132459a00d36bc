#include "migrate/sql_splitter_blocks.h"

#include <string>

#include "migrate/sql_splitter.h"

namespace statesink::migrate::detail {

enum class Keyword : unsigned char {
  kNone,
  // statement kinds
  kAlter,
  kCreate,
  kOr,
  kReplace,
  kDefiner,
  kAggregate,
  kCurrentUser,
  kCurrentRole,
  kTrigger,
  kProcedure,
  kFunction,
  kEvent,
  kEach,
  kRow,
  kFollows,
  kPrecedes,
  // compound statement structure
  kBegin,
  kNot,
  kAtomic,
  kEnd,
  kCase,
  kIf,
  kLoop,
  kWhile,
  kRepeat,
  kFor,
  kThen,
  kElse,
  kDo,
  kHandler,
  // may stand between a routine's parameter list and its body
  kReturns,
  kCharset,
  kCharacter,
  kSet,
  kCollate,
  kComment,
  kLanguage,
  kSql,
  kDeterministic,
  kContains,
  kNo,
  kReads,
  kModifies,
  kData,
  kSecurity,
  kInvoker,
  kUnsigned,
  kSigned,
  kZerofill,
  kBinary,
  kPrecision,
  kVarying,
};

namespace {

struct KeywordName {
  std::string_view name;
  Keyword keyword;
};

constexpr KeywordName kKeywords[] = {
    {"ALTER", Keyword::kAlter},
    {"CREATE", Keyword::kCreate},
    {"OR", Keyword::kOr},
    {"REPLACE", Keyword::kReplace},
    {"DEFINER", Keyword::kDefiner},
    {"AGGREGATE", Keyword::kAggregate},
    {"CURRENT_USER", Keyword::kCurrentUser},
    {"CURRENT_ROLE", Keyword::kCurrentRole},
    {"TRIGGER", Keyword::kTrigger},
    {"PROCEDURE", Keyword::kProcedure},
    {"FUNCTION", Keyword::kFunction},
    {"EVENT", Keyword::kEvent},
    {"EACH", Keyword::kEach},
    {"ROW", Keyword::kRow},
    {"FOLLOWS", Keyword::kFollows},
    {"PRECEDES", Keyword::kPrecedes},
    {"BEGIN", Keyword::kBegin},
    {"NOT", Keyword::kNot},
    {"ATOMIC", Keyword::kAtomic},
    {"END", Keyword::kEnd},
    {"CASE", Keyword::kCase},
    {"IF", Keyword::kIf},
    {"LOOP", Keyword::kLoop},
    {"WHILE", Keyword::kWhile},
    {"REPEAT", Keyword::kRepeat},
    {"FOR", Keyword::kFor},
    {"THEN", Keyword::kThen},
    {"ELSE", Keyword::kElse},
    {"DO", Keyword::kDo},
    {"HANDLER", Keyword::kHandler},
    {"RETURNS", Keyword::kReturns},
    {"CHARSET", Keyword::kCharset},
    {"CHARACTER", Keyword::kCharacter},
    {"SET", Keyword::kSet},
    {"COLLATE", Keyword::kCollate},
    {"COMMENT", Keyword::kComment},
    {"LANGUAGE", Keyword::kLanguage},
    {"SQL", Keyword::kSql},
    {"DETERMINISTIC", Keyword::kDeterministic},
    {"CONTAINS", Keyword::kContains},
    {"NO", Keyword::kNo},
    {"READS", Keyword::kReads},
    {"MODIFIES", Keyword::kModifies},
    {"DATA", Keyword::kData},
    {"SECURITY", Keyword::kSecurity},
    {"INVOKER", Keyword::kInvoker},
    {"UNSIGNED", Keyword::kUnsigned},
    {"SIGNED", Keyword::kSigned},
    {"ZEROFILL", Keyword::kZerofill},
    {"BINARY", Keyword::kBinary},
    {"PRECISION", Keyword::kPrecision},
    {"VARYING", Keyword::kVarying},
};

// The table is small and most words differ in length from most entries, so a
// scan costs a handful of comparisons per word.
Keyword keyword_of(std::string_view word) {
  if (word.size() > 13) {
    return Keyword::kNone;
  }
  for (const KeywordName& k : kKeywords) {
    if (equals_ignore_case(word, k.name)) {
      return k.keyword;
    }
  }
  return Keyword::kNone;
}

bool is_punct(const Token& token, std::string_view text) {
  return token.kind == TokenKind::kPunct && token.text == text;
}

bool is_backtick(const Token& token) {
  return token.kind == TokenKind::kQuoted && token.text.front() == '`';
}

// Words that may stand between a routine's parameter list and its body:
// characteristics (SQL SECURITY INVOKER, NOT DETERMINISTIC, ...) and the parts
// of a function's return type. Passing over them keeps the body's first word
// at a statement start, so a body that is a bare IF or LOOP is recognised.
bool is_prologue_word(Keyword keyword) {
  switch (keyword) {
    case Keyword::kDefiner:
    case Keyword::kNot:
    case Keyword::kCharacter:
    case Keyword::kComment:
    case Keyword::kLanguage:
    case Keyword::kSql:
    case Keyword::kDeterministic:
    case Keyword::kContains:
    case Keyword::kNo:
    case Keyword::kReads:
    case Keyword::kModifies:
    case Keyword::kData:
    case Keyword::kSecurity:
    case Keyword::kInvoker:
    case Keyword::kUnsigned:
    case Keyword::kSigned:
    case Keyword::kZerofill:
    case Keyword::kBinary:
    case Keyword::kPrecision:
    case Keyword::kVarying:
      return true;
    default:
      return false;
  }
}

const char* block_name(unsigned char block) {
  static constexpr const char* kNames[] = {"BEGIN", "CASE", "IF", "LOOP", "WHILE", "REPEAT", "FOR"};
  return kNames[block];
}

}  // namespace

bool equals_ignore_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x >= 'a' && x <= 'z') {
      x = static_cast<char>(x - 'a' + 'A');
    }
    if (y >= 'a' && y <= 'z') {
      y = static_cast<char>(y - 'a' + 'A');
    }
    if (x != y) {
      return false;
    }
  }
  return true;
}

void BlockTracker::feed(const Token& token) {
  if (is_punct(token, "(")) {
    ++paren_depth_;
  } else if (is_punct(token, ")") && paren_depth_ > 0) {
    --paren_depth_;
  }
  // NEW.end, t.begin and @case name columns and variables, whatever they spell.
  const bool identifier = identifier_next_;
  identifier_next_ = is_punct(token, ".") || is_punct(token, "@");
  const Keyword keyword =
      token.kind == TokenKind::kWord && !identifier ? keyword_of(token.text) : Keyword::kNone;

  switch (phase_) {
    case Phase::kUndecided:
      lead(token, keyword);
      break;
    case Phase::kHeader:
      header(token, keyword);
      break;
    case Phase::kBody:
      body(token, keyword);
      break;
    case Phase::kPlain:
      break;
  }
}

// Works out from the first tokens whether the statement has a compound body.
void BlockTracker::lead(const Token& token, Keyword keyword) {
  if (token.kind == TokenKind::kExecutableComment) {
    // Inside CREATE, mysqldump puts clauses in version comments; at the very
    // start the whole statement is one, and its ';' never reach us.
    if (lead_ != Lead::kCreate) {
      phase_ = Phase::kPlain;
    }
    return;
  }
  switch (lead_) {
    case Lead::kFirst:
      first_line_ = token.line;
      if (keyword == Keyword::kCreate || keyword == Keyword::kAlter) {
        lead_ = Lead::kCreate;
      } else if (keyword == Keyword::kBegin) {
        lead_ = Lead::kBegin;  // a transaction, unless NOT ATOMIC follows
      } else if (keyword == Keyword::kIf || keyword == Keyword::kCase ||
                 keyword == Keyword::kLoop || keyword == Keyword::kWhile ||
                 keyword == Keyword::kRepeat || keyword == Keyword::kFor) {
        // MariaDB runs these compound statements outside stored programs too;
        // no plain statement starts with one of these words.
        enter_body();
        at_statement_start_ = true;
        body(token, keyword);
      } else if (token.kind == TokenKind::kWord || is_backtick(token)) {
        lead_ = Lead::kLabel;
      } else {
        phase_ = Phase::kPlain;
      }
      return;
    case Lead::kLabel:
      if (is_punct(token, ":")) {
        lead_ = Lead::kLabelColon;
      } else {
        phase_ = Phase::kPlain;
      }
      return;
    case Lead::kLabelColon:
      if (keyword == Keyword::kBegin || keyword == Keyword::kLoop || keyword == Keyword::kWhile ||
          keyword == Keyword::kRepeat || keyword == Keyword::kFor) {
        enter_body();
        at_statement_start_ = true;
        body(token, keyword);
      } else {
        phase_ = Phase::kPlain;
      }
      return;
    case Lead::kBegin:
      if (keyword == Keyword::kNot) {
        lead_ = Lead::kBeginNot;
      } else {
        phase_ = Phase::kPlain;
      }
      return;
    case Lead::kBeginNot:
      if (keyword == Keyword::kAtomic) {
        enter_body();
        push(Block::kBegin, first_line_);
        at_statement_start_ = true;
      } else {
        phase_ = Phase::kPlain;
      }
      return;
    case Lead::kCreate: {
      // CREATE [OR REPLACE] [DEFINER = user] [AGGREGATE] TRIGGER|PROCEDURE|FUNCTION|EVENT,
      // and ALTER [DEFINER = user] EVENT, which may carry a new DO body.
      // The user may be `a`@`b`, 'a'@'%', a@host.example, CURRENT_USER(), a role:
      // a word right after '=', '@', '.' or '-' is part of it, never the object kind.
      const bool definer_name = definer_name_next_;
      definer_name_next_ = is_punct(token, "=") || is_punct(token, "@") || is_punct(token, ".") ||
                           is_punct(token, "-");
      if (token.kind != TokenKind::kWord || definer_name) {
        return;
      }
      switch (keyword) {
        case Keyword::kOr:
        case Keyword::kReplace:
        case Keyword::kDefiner:
        case Keyword::kAggregate:
        case Keyword::kCurrentUser:
        case Keyword::kCurrentRole:
          return;
        case Keyword::kTrigger:
          routine_ = Routine::kTrigger;
          phase_ = Phase::kHeader;
          return;
        case Keyword::kProcedure:
        case Keyword::kFunction:
          routine_ = Routine::kRoutine;
          phase_ = Phase::kHeader;
          return;
        case Keyword::kEvent:
          routine_ = Routine::kEvent;
          phase_ = Phase::kHeader;
          return;
        default:
          phase_ = Phase::kPlain;  // TABLE, VIEW, INDEX, ...
          return;
      }
    }
  }
}

// Looks for where the body starts; nothing before it opens a block (the IF of
// IF NOT EXISTS, a parameter called `begin`).
void BlockTracker::header(const Token& token, Keyword keyword) {
  switch (routine_) {
    case Routine::kTrigger:
      if (keyword == Keyword::kFor) {
        each_row_ = 1;
      } else if (keyword == Keyword::kEach && each_row_ == 1) {
        each_row_ = 2;
      } else if (keyword == Keyword::kRow && each_row_ == 2) {
        enter_body();
        at_statement_start_ = true;
        prologue_ = Prologue::kTrigger;
      } else {
        each_row_ = 0;
      }
      return;
    case Routine::kRoutine:
      if (is_punct(token, "(") && paren_depth_ == 1) {
        params_open_ = true;
      } else if (is_punct(token, ")") && paren_depth_ == 0 && params_open_) {
        enter_body();
        at_statement_start_ = true;
        prologue_ = Prologue::kRoutine;
      }
      return;
    case Routine::kEvent:
      if (keyword == Keyword::kDo && paren_depth_ == 0) {
        enter_body();
        at_statement_start_ = true;
      }
      return;
  }
}

bool BlockTracker::prologue_passes(const Token& token, Keyword keyword) {
  if (prologue_ == Prologue::kTrigger) {
    // FOR EACH ROW {FOLLOWS | PRECEDES} other_trigger
    if (keyword == Keyword::kFollows || keyword == Keyword::kPrecedes) {
      name_next_ = true;
      return true;
    }
    if (name_next_ && (token.kind == TokenKind::kWord || is_backtick(token))) {
      name_next_ = false;
      return true;
    }
    return false;
  }
  if (paren_depth_ > 0 || is_punct(token, ")")) {
    return true;  // VARCHAR(20), DECIMAL(10,2)
  }
  if (token.kind == TokenKind::kQuoted) {
    name_next_ = false;  // COMMENT 'text', a quoted character set
    return true;
  }
  if (token.kind != TokenKind::kWord) {
    return false;
  }
  if (name_next_) {
    name_next_ = false;  // the type after RETURNS, the name after CHARSET
    return true;
  }
  if (keyword == Keyword::kReturns || keyword == Keyword::kCharset || keyword == Keyword::kSet ||
      keyword == Keyword::kCollate) {
    name_next_ = true;
    return true;
  }
  return is_prologue_word(keyword);
}

void BlockTracker::body(const Token& token, Keyword keyword) {
  if (pending_end_) {
    pending_end_ = false;
    switch (keyword) {
      case Keyword::kIf:
        close(Block::kIf);
        return;
      case Keyword::kCase:
        close(Block::kCase);
        return;
      case Keyword::kLoop:
        close(Block::kLoop);
        return;
      case Keyword::kWhile:
        close(Block::kWhile);
        return;
      case Keyword::kRepeat:
        close(Block::kRepeat);
        return;
      case Keyword::kFor:
        close(Block::kFor);
        return;
      default:
        close_bare_end();
        break;
    }
  }
  if (prologue_ != Prologue::kNone) {
    if (prologue_passes(token, keyword)) {
      return;
    }
    prologue_ = Prologue::kNone;
  }
  if (token.kind == TokenKind::kExecutableComment) {
    return;
  }

  const bool start = at_statement_start_;
  at_statement_start_ = false;
  if (token.kind == TokenKind::kPunct) {
    at_statement_start_ = token.text == ":";  // after a label; ":=" is its own token
    return;
  }
  if (token.kind != TokenKind::kWord || paren_depth_ > 0) {
    // Inside parentheses there are only expressions: IF() calls, CASE
    // expressions whose END is inside the same parentheses.
    return;
  }
  switch (keyword) {
    case Keyword::kBegin:
      // At a statement start, or as the body of DECLARE ... HANDLER FOR x BEGIN.
      // Inside stored programs BEGIN is never a transaction. Anywhere else it
      // is a column or variable that the server reads as a name, while taking
      // it for a block would swallow the rest of the file into this statement.
      if (!start && !handler_) {
        throw_misread_name(token, "the start of a BEGIN ... END block");
      }
      push(Block::kBegin, token.line);
      at_statement_start_ = true;
      return;
    case Keyword::kCase:
      push(Block::kCase, token.line);
      return;
    case Keyword::kIf:
    case Keyword::kWhile:
    case Keyword::kFor:
      // Elsewhere these are the IF() function, FOR UPDATE, FOR EACH ROW, ...
      if (start) {
        push(keyword == Keyword::kIf      ? Block::kIf
             : keyword == Keyword::kWhile ? Block::kWhile
                                          : Block::kFor,
             token.line);
      }
      return;
    case Keyword::kLoop:
    case Keyword::kRepeat:
      if (start) {  // otherwise REPEAT() the function
        push(keyword == Keyword::kLoop ? Block::kLoop : Block::kRepeat, token.line);
        at_statement_start_ = true;
      }
      return;
    case Keyword::kEnd:
      pending_end_ = true;
      end_token_ = token;
      end_at_start_ = start;
      return;
    case Keyword::kHandler:
      handler_ = true;
      return;
    case Keyword::kThen:
    case Keyword::kElse:
      // Also inside a CASE expression, where an IF() so taken for a block is
      // closed again by the expression's END.
      at_statement_start_ = true;
      return;
    case Keyword::kDo:
      // WHILE ... DO and FOR ... DO start statements; the DO statement does not.
      at_statement_start_ = !start;
      return;
    default:
      return;
  }
}

bool BlockTracker::semicolon_ends_statement() {
  if (phase_ != Phase::kBody) {
    return true;
  }
  if (pending_end_) {
    pending_end_ = false;
    close_bare_end();
  }
  prologue_ = Prologue::kNone;
  if (open_.empty()) {
    return true;
  }
  // Parentheses never span statements; forgetting stray ones keeps a typo from
  // switching off keyword recognition for the rest of the body.
  paren_depth_ = 0;
  identifier_next_ = false;
  handler_ = false;
  at_statement_start_ = true;
  return false;
}

void BlockTracker::check_closed() {
  if (pending_end_) {
    pending_end_ = false;
    close_bare_end();
  }
  if (open_.empty()) {
    return;
  }
  const Open& outer = open_.front();
  throw SqlSyntaxError(std::string(block_name(static_cast<unsigned char>(outer.block))) +
                           " opened on line " + std::to_string(outer.line) +
                           " is never closed by a matching END; the statement runs to the end "
                           "of the file",
                       outer.line);
}

void BlockTracker::enter_body() { phase_ = Phase::kBody; }

void BlockTracker::push(Block block, int line) {
  open_.push_back(Open{block, line});
  ++open_count_[static_cast<std::size_t>(block)];
}

void BlockTracker::pop() {
  --open_count_[static_cast<std::size_t>(open_.back().block)];
  open_.pop_back();
}

// END IF, END LOOP, ...: when a block of that kind is open, blocks opened after
// it were misread (a word taken for a keyword) and are closed with it. When
// none is open, its opener was missed and the END is ignored. Either way the
// counts keep this linear.
void BlockTracker::close(Block block) {
  if (open_count_[static_cast<std::size_t>(block)] == 0) {
    return;
  }
  while (open_.back().block != block) {
    pop();
  }
  pop();
}

// A bare END closes a BEGIN block or a CASE expression. The END of a BEGIN
// block starts a statement; one in the middle of a statement is a column or
// variable called `end`, and closing the block there would cut the program
// short at the next ';' and apply the rest of it as separate statements.
void BlockTracker::close_bare_end() {
  if (open_count_[static_cast<std::size_t>(Block::kBegin)] == 0 &&
      open_count_[static_cast<std::size_t>(Block::kCase)] == 0) {
    return;
  }
  std::size_t closes = open_.size() - 1;
  while (open_[closes].block != Block::kBegin && open_[closes].block != Block::kCase) {
    --closes;
  }
  if (open_[closes].block == Block::kBegin && !end_at_start_) {
    throw_misread_name(end_token_,
                       "the END of the BEGIN on line " + std::to_string(open_[closes].line));
  }
  while (open_.size() > closes) {
    pop();
  }
}

void BlockTracker::throw_misread_name(const Token& token, const std::string& taken_for) {
  const std::string word(token.text);
  throw SqlSyntaxError("the unquoted word " + word + " on line " + std::to_string(token.line) +
                           " would be taken for " + taken_for +
                           " and split the statement in the wrong place; if it names a column "
                           "or variable, quote it as `" +
                           word + "`, or put the statement between DELIMITER lines",
                       token.line);
}

}  // namespace statesink::migrate::detail
