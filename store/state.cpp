#include "store/state.h"
