/*
 * tamis/abi.h — the C ABI between the tamis host and its filter plugins.
 *
 * A plugin is a shared library that exports two functions:
 *
 *     uint32_t                  tamis_plugin_abi_version(void);
 *     const tamis_plugin_desc*  tamis_plugin_entry(const tamis_host_api* host);
 *
 * The host calls tamis_plugin_abi_version() first and refuses the library when the number differs
 * from its own TAMIS_ABI_VERSION, naming the file and both versions. Only then does it call
 * tamis_plugin_entry(), which returns a description of the plugin's ops (static data owned by the
 * plugin, valid while the library stays loaded).
 *
 * Naming: hooks the plugin implements are fields of tamis_op_desc (create, process, ...); callbacks
 * the host implements are fields of tamis_host_api. Nothing here throws: every hook that can fail
 * returns a tamis_status and fills a tamis_error.
 *
 * Versioning policy: TAMIS_ABI_VERSION changes when any struct or function here changes in a way an
 * old plugin or host would misread. It is independent of the product version (TAMIS_VERSION).
 *
 * Most users never include this header directly: tamis/sdk.hpp wraps it in C++.
 */
#ifndef TAMIS_ABI_H
#define TAMIS_ABI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this ABI. A plugin and a host agree only when their numbers are equal.
 * 3: tamis_param_desc grew `role` and `paths_at` (files a stage reads), tamis_host_api grew
 *    callback_reject_field (rejections for a missing field, which the host counts and warns about).
 *    Later in 3, at the ends of their structs (older plugins still load): tamis_plugin_desc's commands,
 *    tamis_stage_info's run_flags, tamis_host_api's callback_commit_file, tamis_op_desc's former_names. */
#define TAMIS_ABI_VERSION 3u

/* Bytes that the host guarantees readable after every record's JSON text, so that a plugin
 * can hand the text to simdjson without copying it. */
#define TAMIS_RECORD_PADDING 64u

#if defined(_WIN32)
#define TAMIS_EXPORT __declspec(dllexport)
#else
#define TAMIS_EXPORT __attribute__((visibility("default")))
#endif

/* A byte string that is not necessarily NUL-terminated. */
typedef struct tamis_str {
  const char* data;
  size_t size;
} tamis_str;

typedef enum tamis_status {
  TAMIS_OK = 0,
  TAMIS_FAILED = 1 /* the tamis_error passed to the hook says why */
} tamis_status;

/* Filled by a hook that fails. `record_index` is the batch index of the record being processed when
 * the failure happened, or -1. The message is NUL-terminated and truncated to fit. */
typedef struct tamis_error {
  char message[1024];
  int64_t record_index;
} tamis_error;

/* ---------------------------------------------------------------------------------------------------
 * Parameters
 * ------------------------------------------------------------------------------------------------- */

typedef enum tamis_param_type {
  TAMIS_PARAM_BOOL = 1,
  TAMIS_PARAM_INT = 2,         /* 64-bit signed integer */
  TAMIS_PARAM_FLOAT = 3,       /* double; an integer literal is accepted */
  TAMIS_PARAM_STRING = 4,
  TAMIS_PARAM_PATH = 5,        /* string; the host resolves it relative to the pipeline file */
  TAMIS_PARAM_STRING_LIST = 6, /* a YAML sequence of strings; a single string is a list of one */
  TAMIS_PARAM_PATH_LIST = 7,   /* like STRING_LIST, each resolved like PATH */
  TAMIS_PARAM_STRING_MAP = 8,  /* a YAML mapping of string to string */
  TAMIS_PARAM_JSON = 9         /* any YAML value, passed through as JSON */
} tamis_param_type;

/* What a parameter's files are to the stage (ABI 3). `tamis validate` (and `run`, before reading any
 * data) checks that every file a stage will read exists and is readable. */
typedef enum tamis_param_role {
  TAMIS_ROLE_UNKNOWN = 0, /* not said, or not a file: the host checks nothing */
  TAMIS_ROLE_INPUT = 1,   /* files the stage reads (side files: references, indexes, rollouts) */
  TAMIS_ROLE_OUTPUT = 2   /* files or directories the stage writes */
} tamis_param_role;

/* One row of an op's parameter table. The table drives validation, `tamis plugins info` and the op
 * reference in docs/ops.md.
 *
 *   default_json  the default as JSON text ("0.8", "true", "\"problem\"", "[]"), or NULL.
 *   required      non-zero when the stage must set it (then default_json is NULL).
 *   choices       for STRING / STRING_LIST: NULL, or a NULL-terminated list of allowed values.
 *   role          for PATH / PATH_LIST / JSON: whether the value names files the stage reads or writes.
 *                 With TAMIS_ROLE_INPUT the host checks each such file before running: it must exist and
 *                 be readable (a name with * ? [ that is not a file must match at least one).
 *   paths_at      JSON rows with TAMIS_ROLE_INPUT: where the paths are inside the value, keys separated by
 *                 dots, where "*" stands for every element of an array or every member of an object
 *                 ("*.path": the `path` of every item of a list of objects); NULL: the value itself is
 *                 a path or a list of paths. Relative paths found there are taken relative to the
 *                 pipeline file's directory; values that are not strings are left to the op's check().
 *
 * A row named "*" accepts every key not named by another row, with the row's type; the op receives
 * those keys under the parameter name "*" as an object (used by map.rename: `with: {old: new}`). */
typedef struct tamis_param_desc {
  const char* name;
  tamis_param_type type;
  const char* default_json;
  int32_t required;
  const char* help;
  const char* const* choices;
  tamis_param_role role; /* ABI 3 */
  const char* paths_at;  /* ABI 3 */
} tamis_param_desc;

/* ---------------------------------------------------------------------------------------------------
 * Records and batches
 * ------------------------------------------------------------------------------------------------- */

/* One annotation already attached to a record: a key and a JSON value as text. */
typedef struct tamis_annotation {
  tamis_str key;
  tamis_str value_json;
} tamis_annotation;

/* A read-only view of one record, valid during the hook call that received it.
 * `json` is the record's current text (one JSON object, no trailing newline), followed by at least
 * TAMIS_RECORD_PADDING readable bytes. */
typedef struct tamis_record {
  tamis_str json;
  tamis_str id;     /* the record id: the source's id field, or "file:line" */
  tamis_str source; /* the name of the source it was read from */
  tamis_str file;   /* the file it was read from, as displayed to users */
  uint64_t line;    /* 1-based line number in that file */
  const tamis_annotation* annotations;
  size_t annotation_count;
} tamis_record;

/* A batch of records in input order. `host_ctx` is opaque and goes back to the batch callbacks of
 * tamis_host_api. `op_scratch` is the plugin's: an ordered op may set it in process() and read it in
 * process_ordered() for the same batch; the host then calls release_scratch(). */
typedef struct tamis_batch {
  size_t count;
  const tamis_record* records;
  void* host_ctx;
  void* op_scratch;
} tamis_batch;

typedef enum tamis_log_level {
  TAMIS_LOG_DEBUG = 0,
  TAMIS_LOG_INFO = 1,
  TAMIS_LOG_WARN = 2,
  TAMIS_LOG_ERROR = 3
} tamis_log_level;

/* Callbacks the host implements. Batch callbacks take the batch's host_ctx and a record index; they
 * may be called from the thread running the hook only, during that hook. Strings are copied by the
 * host before the call returns. `struct_size` lets the table grow: new entries go at the end only. */
typedef struct tamis_host_api {
  uint32_t struct_size;
  uint32_t abi_version;

  /* Attach annotation `key` with JSON value `value_json` (must be valid JSON) to record `index`;
   * replaces an earlier value of the same key. */
  void (*callback_annotate)(void* host_ctx, size_t index, tamis_str key, tamis_str value_json);
  /* Reject record `index`: `reason` is a short machine-readable code, `detail` a human sentence
   * (may be empty). A record rejected twice keeps the first verdict. */
  void (*callback_reject)(void* host_ctx, size_t index, tamis_str reason, tamis_str detail);
  /* Replace the text of record `index` by `json` (must be one valid JSON object). */
  void (*callback_replace)(void* host_ctx, size_t index, tamis_str json);
  /* Expanding ops only: emit a new record after record `index` (and after earlier emits for it),
   * with its own text and id; it carries the parent's annotations. */
  void (*callback_emit)(void* host_ctx, size_t index, tamis_str json, tamis_str id);
  /* Add `delta` to the stage's counter `name` (shown in the report). `ctx` is a batch's host_ctx or
   * the stage context given to create/finish. */
  void (*callback_count)(void* ctx, tamis_str name, int64_t delta);
  /* Log a message attributed to the stage. `ctx` as for callback_count. */
  void (*callback_log)(void* ctx, tamis_log_level level, tamis_str message);
  /* finish() only: attach a JSON object (text) to the stage's entry in the run report. */
  void (*callback_report)(void* stage_ctx, tamis_str json_object);
  /* ABI 3. Like callback_reject, for a record rejected because its field `field` (a path as the op's
   * parameter names it) is missing or cannot be used (null, not a string ...). The host counts these per
   * stage and field, and when nearly all of a stage's input is rejected that way it warns at the end of
   * the run, naming the field and the fields the records do have (a misnamed field parameter). */
  void (*callback_reject_field)(void* host_ctx, size_t index, tamis_str field, tamis_str reason,
                                tamis_str detail);
  /* Added in ABI 3 at the end of the table (check struct_size before use: an older host lacks it).
   * finish() only: hand the host a side file the stage has written in full (fsynced and closed) to the
   * temporary `temp_path`, to be renamed over `target_path` (in the same folder) with the run's other
   * outputs: after the counts are checked, as one set (every file checked before the first rename), or
   * deleted if the run fails. The host owns the temporary from then on. On TAMIS_FAILED, `err` says
   * why and the temporary is left to the plugin. */
  tamis_status (*callback_commit_file)(void* stage_ctx, tamis_str temp_path, tamis_str target_path,
                                       tamis_error* err);
} tamis_host_api;

/* ---------------------------------------------------------------------------------------------------
 * Ops
 * ------------------------------------------------------------------------------------------------- */

typedef enum tamis_op_kind {
  /* Looks at one record at a time; process() runs on many batches at once. */
  TAMIS_OP_RECORD = 1,
  /* process() runs in parallel (e.g. compute hashes), then process_ordered() sees the batches one at
   * a time in input order (e.g. look up and insert into an index). */
  TAMIS_OP_ORDERED = 2,
  /* Like a record op, and may emit new records with callback_emit. */
  TAMIS_OP_EXPANDING = 3
} tamis_op_kind;

/* What create() learns about the stage it serves. */
typedef struct tamis_stage_info {
  uint32_t struct_size;
  tamis_str stage_name;
  tamis_str params_json;   /* a JSON object: every parameter of the table, defaults filled in,
                              paths resolved; valid during create() only */
  tamis_str pipeline_dir;  /* the directory of the pipeline file */
  uint32_t threads;        /* worker threads of the run */
  void* stage_ctx;         /* for callback_count/log/report outside batches; lives as long as the stage */
  /* Added in ABI 3 at the end (check struct_size before reading: an older host lacks it). TAMIS_RUN_*
   * bits. */
  uint32_t run_flags;
} tamis_stage_info;

/* A dry run (`tamis run --dry-run`): every record is read and goes through the stages, but no output is
 * written and side files handed over are discarded. An op whose work costs outside the process (requests
 * to a model server, a sandbox) must not do it: it counts what it would do, says so in its report
 * (callback_report) and rejects the records it would have worked on (reason "dry_run"). */
#define TAMIS_RUN_DRY 1u

/* One op. Hook contracts:
 *   check(params_json, err)     optional; cross-parameter checks done by `tamis validate` without
 *                               reading data. Types and required keys are already checked by the host.
 *   create(host, info, state, err)  makes the stage's state; may read side files.
 *   destroy(state)              frees it; called once, after finish or after a failure.
 *   process(state, batch, err)  record/expanding ops: the whole work; ordered ops: the parallel part.
 *                               MAY BE CALLED CONCURRENTLY on different batches with the same state.
 *   process_ordered(state, batch, err)  ordered ops only: called once per batch, in input order,
 *                               never concurrently; may be NULL for other kinds.
 *   release_scratch(state, scratch)  frees batch->op_scratch; may be NULL if never set.
 *   finish(state, err)          optional; after the last batch (write index files, report).
 *   first_pass(state)           ordered ops, optional: called after create(); nonzero when this stage
 *                               must see its whole input once before the real pass (to choose the
 *                               survivor of a cluster, or to reject the earlier record of a pair).
 *   observe_ordered(state, batch, err)  set when first_pass is. In the first pass the host calls
 *                               process() (parallel) and then observe_ordered() instead of
 *                               process_ordered(), once per batch in input order. The batch is then
 *                               dropped: its annotations, rejections and emitted records are ignored.
 *                               The real pass follows with the same records in the same order. */
typedef struct tamis_op_desc {
  uint32_t struct_size;
  const char* name;    /* e.g. "filter.length" */
  const char* summary; /* one line */
  tamis_op_kind kind;
  const tamis_param_desc* params;
  size_t param_count;

  tamis_status (*check)(tamis_str params_json, tamis_error* err);
  tamis_status (*create)(const tamis_host_api* host, const tamis_stage_info* info, void** state,
                         tamis_error* err);
  void (*destroy)(void* state);
  tamis_status (*process)(void* state, tamis_batch* batch, tamis_error* err);
  tamis_status (*process_ordered)(void* state, tamis_batch* batch, tamis_error* err);
  void (*release_scratch)(void* state, void* scratch);
  tamis_status (*finish)(void* state, tamis_error* err);
  int32_t (*first_pass)(void* state);
  tamis_status (*observe_ordered)(void* state, tamis_batch* batch, tamis_error* err);
  /* Added in ABI 3 at the end (an older plugin's description ends before it: the host reads it only when
   * struct_size covers it). The names the op had before a rename, as a NULL-terminated list, or NULL.
   * A pipeline naming the op by a former name still runs, with a deprecation warning; a former name
   * equal to another op's name (or former name) is refused when the plugin is loaded. */
  const char* const* former_names;
} tamis_op_desc;

/* A command the plugin offers on the command line: `tamis PLUGIN COMMAND ARGS...` (e.g. `tamis rollout
 * cache stats FILE`), for work on a plugin's own files outside a run. */
typedef struct tamis_command_desc {
  uint32_t struct_size;
  const char* name;    /* e.g. "cache" */
  const char* summary; /* one line */
  const char* usage;   /* the arguments after the command's name, one form per line */
  /* Runs the command: argv[0 .. argc-1] are the arguments after its name. Output on stdout, messages on
   * stderr; returns the process's exit code (0 done, 1 failed, 2 bad arguments). No run is in progress:
   * the host callbacks must not be called. */
  int32_t (*run)(int32_t argc, const char* const* argv);
} tamis_command_desc;

/* What tamis_plugin_entry() returns.
 *
 * `ops` is an array whose elements are each ops[0].struct_size bytes long: the host steps through it by
 * that size, not by its own sizeof(tamis_op_desc), so a plugin built with a shorter (earlier) or longer
 * (later) tamis_op_desc of this ABI is read right. */
typedef struct tamis_plugin_desc {
  uint32_t struct_size;
  uint32_t abi_version; /* TAMIS_ABI_VERSION the plugin was built with */
  const char* name;     /* e.g. "basic" */
  const char* version;  /* the plugin's own version, e.g. "0.1.0" */
  const tamis_op_desc* ops;
  size_t op_count;
  /* Added in ABI 3 at the end (check struct_size before reading: an older plugin lacks them). */
  const tamis_command_desc* commands;
  size_t command_count;
} tamis_plugin_desc;

typedef uint32_t (*tamis_plugin_abi_version_fn)(void);
typedef const tamis_plugin_desc* (*tamis_plugin_entry_fn)(const tamis_host_api* host);

#define TAMIS_PLUGIN_ABI_VERSION_SYMBOL "tamis_plugin_abi_version"
#define TAMIS_PLUGIN_ENTRY_SYMBOL "tamis_plugin_entry"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* TAMIS_ABI_H */
