//! The language of the pages (`report.html`, `compare.html`, `monitor.html`): English, or
//! Chinese in the guideline's own terms (风险等级, 高风险 …). Every user-facing phrase of the
//! pages is written in English in the code and looked up here; a phrase without a Chinese entry
//! stays English (ids, rule numbers and figures are the same in both).

/// A page language (`--lang`; default: the model's `[model] language`, else `en`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Chinese (简体中文).
    Zh,
}

/// English phrase → Chinese, in the guideline's terms.
const ZH: &[(&str, &str)] = &[
    // Report.
    (
        "Customer risk grading, as of",
        "客户洗钱风险等级划分，评估基准日",
    ),
    ("Model", "模型"),
    ("approved by", "批准："),
    ("on", "日期"),
    ("customers graded", "已划分风险等级的客户"),
    ("FATF lists", "FATF 名单"),
    ("Rulebook", "适用规定"),
    ("in effect from", "施行日期"),
    ("not yet on the as-of date", "基准日尚未施行"),
    ("Grade distribution", "风险等级分布"),
    ("Per segment", "按客户类型"),
    ("Per branch", "按分支机构"),
    ("Total scores", "风险评分"),
    (
        "Migration from the grades on file",
        "与原有风险等级相比的变动",
    ),
    ("What the totals are made of", "评分构成"),
    ("Exceptions and missing information", "直接评级与信息缺失"),
    ("Work list", "待办清单：重新划分与定期审核"),
    ("The model (P5)", "评估模型（P5）"),
    ("Customers per grade", "各风险等级客户数"),
    (
        "Customers per grade, per segment",
        "各客户类型的风险等级分布",
    ),
    (
        "Customers per grade, per branch",
        "各分支机构的风险等级分布",
    ),
    ("Customers per grade, per model", "各模型的风险等级分布"),
    ("Customers per reason", "各原因客户数"),
    (
        "Customers by month due (overdue first)",
        "按到期月份的客户数（逾期在前）",
    ),
    (
        "Share of the total per element (‰)",
        "各风险要素占总分比例（‰）",
    ),
    (
        "Customers per direct-highest condition (XH)",
        "直接评定为最高风险等级的情形（XH）",
    ),
    (
        "Customers by adjusted total score, with the band edges",
        "按调整后总分的客户分布与等级分界",
    ),
    ("grade", "风险等级"),
    ("customers", "客户数"),
    ("share", "占比"),
    ("key", "类别"),
    ("highest share", "最高风险等级占比"),
    ("branch", "分支机构"),
    ("customers needing action", "待处理客户"),
    ("customers to act on", "待处理客户"),
    ("overdue", "逾期"),
    ("sub-item", "子项"),
    ("rule", "规则"),
    ("condition", "情形"),
    (
        "points since the grades on file",
        "个百分点（较原有风险等级）",
    ),
    ("no grades on file", "无原有风险等级"),
    ("none on file", "无原有等级"),
    ("customers need action", "名客户待处理"),
    (
        "Rows: grade on file; columns: the final grade of this run.",
        "行：原有风险等级；列：本次最终风险等级。",
    ),
    // Grades and reasons.
    ("highest", "最高风险"),
    ("high", "高风险"),
    ("higher", "较高风险"),
    ("medium", "中风险"),
    ("lower", "较低风险"),
    ("low", "低风险"),
    ("grade_change", "风险等级变动"),
    ("new_customer", "新建立业务关系（T1）"),
    ("review_due", "定期审核到期（T2）"),
    ("first_review", "首次审核（T3）"),
    ("trigger_event", "触发事件（T4）"),
    ("override_disagreement", "人工调整与计算结果不一致（PR4）"),
    ("override_expired", "人工调整到期（PR4）"),
    ("exception_entered", "进入直接评级（XH）"),
    ("exception_left", "退出直接评级（XH）"),
    ("name_change", "名称变更"),
    ("id_document_change", "身份证件变更"),
    ("business_scope_change", "经营范围变更"),
    ("legal_representative_change", "法定代表人变更"),
    ("beneficial_owner_change", "受益所有人变更"),
    ("profile_inconsistent", "身份信息不一致"),
    ("id_expired", "身份证件过期"),
    ("list_change", "名单调整"),
    ("cdd_refused", "拒绝配合尽职调查"),
    ("legacy_cdd", "存量客户尽职调查"),
    ("legacy_bo", "存量客户受益所有人识别"),
    // Explain.
    ("rating sheet of customer", "客户风险等级评定表"),
    ("institution", "机构"),
    ("name", "名称"),
    ("ID", "证件号码"),
    ("kind", "客户类型"),
    ("segment", "细分类别"),
    ("branch-level adjustment", "分支机构调整"),
    (
        "(M2): its rules score the sub-items it names",
        "（M2）：按其规则为所列子项评分",
    ),
    ("score", "得分"),
    ("weight", "权重"),
    ("points", "分值"),
    (
        "rules (feature = value → score)",
        "规则（特征 = 取值 → 得分）",
    ),
    ("not applicable", "不适用"),
    ("missing", "缺失"),
    ("missing information, PR3", "信息缺失，PR3"),
    ("weighted sum", "加权和"),
    ("total", "总分"),
    ("regional coefficient", "地域系数"),
    ("adjusted", "调整后"),
    ("scored grade", "评分对应等级"),
    ("direct highest", "直接评定为最高风险等级"),
    ("direct low blocked by", "不能直接评定为低风险的原因"),
    ("none", "无"),
    ("computed grade", "计算等级"),
    ("final grade", "最终风险等级"),
    ("basis", "依据"),
    ("grade on file", "原有风险等级"),
    ("set by hand", "人工调整"),
    ("reviewer", "审核人"),
    ("direct-low class", "直接评定为低风险的类别"),
    ("enhanced due diligence", "强化尽职调查"),
    ("beneficial owners (L-BOI6)", "受益所有人（L-BOI6）"),
    (
        "none identified, and no one runs its daily business on file",
        "未能识别，且无日常经营管理人员记录",
    ),
    ("by", "依据"),
    ("equity", "股权"),
    ("voting", "表决权"),
    ("path", "路径"),
    ("PEP relation", "政治公众人物关系"),
    ("on a monitoring list", "在监控名单上"),
    ("action", "待办"),
    ("due", "到期"),
    ("no action needed", "无需处理"),
    // Monitor.
    ("Model monitoring", "模型监测"),
    ("to", "至"),
    ("runs of the book", "次评估"),
    (
        "Every run was made with the same model.",
        "各次评估使用同一模型。",
    ),
    ("Models differ:", "模型有变化："),
    ("Grades per run", "各次评估的风险等级分布"),
    (
        "Stability (population stability index)",
        "稳定性（群体稳定性指数 PSI）",
    ),
    (
        "Migration between consecutive runs",
        "相邻两次评估之间的等级变动",
    ),
    ("Discrimination, back-tested", "区分能力回测"),
    ("Process health", "流程健康度"),
    ("as of", "基准日"),
    ("what", "指标"),
    ("latest vs first", "最近一次对比首次"),
    ("total score", "总分"),
    // Compare.
    ("Model comparison, as of", "模型比较，评估基准日"),
    ("Summary", "概要"),
    ("Migration", "等级变动"),
    ("STR back-test", "可疑交易报告回测"),
    ("Sensitivity of the baseline", "基准模型的敏感性"),
    ("candidate", "备选模型"),
    ("baseline", "基准模型"),
    ("model", "模型"),
];

impl Lang {
    /// The phrase in this language.
    pub fn t(self, en: &'static str) -> &'static str {
        match self {
            Lang::En => en,
            Lang::Zh => ZH.iter().find(|(e, _)| *e == en).map_or(en, |(_, z)| *z),
        }
    }

    /// A name from the data (a grade, a reason): translated where the table knows it.
    pub fn name(self, s: &str) -> String {
        match self {
            Lang::En => s.to_string(),
            Lang::Zh => ZH
                .iter()
                .find(|(e, _)| *e == s)
                .map_or_else(|| s.to_string(), |(_, z)| (*z).to_string()),
        }
    }

    /// `--lang` if given, else the model's `[model] language`, else English.
    pub fn choose(flag: Option<Lang>, model_language: Option<&str>) -> Lang {
        flag.unwrap_or(match model_language {
            Some("zh") => Lang::Zh,
            _ => Lang::En,
        })
    }

    /// The `lang` attribute of the page.
    pub fn html(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Zh => "zh-CN",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_phrase_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (e, _) in ZH {
            assert!(seen.insert(*e), "{e} twice");
        }
        assert_eq!(Lang::Zh.t("Grade distribution"), "风险等级分布");
        assert_eq!(Lang::En.t("Grade distribution"), "Grade distribution");
        assert_eq!(Lang::Zh.name("high"), "高风险");
        assert_eq!(Lang::Zh.name("B001"), "B001");
    }
}
