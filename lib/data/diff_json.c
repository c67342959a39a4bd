/* placeholder: being written */
typedef int mlops__placeholder_diff_json;
