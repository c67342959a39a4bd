/* placeholder: being written */
typedef int mlops__placeholder_checkout_apply;
