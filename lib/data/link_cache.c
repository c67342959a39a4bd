/* placeholder: being written */
typedef int mlops__placeholder_link_cache;
